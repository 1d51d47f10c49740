// parse_retry_after never crashes; it accepts exactly the (blank-trimmed) all-digit values and
// reads them as seconds saturated at one day, which an independent reading here confirms.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "watchpost/exporters/webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = watchpost::exporters::parse_retry_after(text);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  bool digits = !text.empty();
  std::uint64_t seconds = 0;  // saturating at a day, one digit at a time
  for (const char c : text) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    seconds = seconds * 10 + static_cast<std::uint64_t>(c - '0');
    if (seconds > 86400) seconds = 86400;
  }
  if (parsed.has_value() != digits) {
    std::fprintf(stderr, "accepted=%d but all-digits=%d\n", parsed.has_value(), digits);
    std::abort();
  }
  if (parsed && *parsed != std::chrono::seconds(seconds)) {
    std::fprintf(stderr, "read %lld ns, expected %llu s\n", static_cast<long long>(parsed->count()),
                 static_cast<unsigned long long>(seconds));
    std::abort();
  }
  return 0;
}
