// parse_duration never crashes, and what it accepts survives format_duration -> parse_duration
// within what format_duration keeps: three significant figures below a minute, whole seconds
// below an hour, whole minutes above.
#include "watchpost/common/duration.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

std::int64_t allowed_error(std::int64_t ns) {
  if (ns < 60'000'000'000) return ns / 200 + 1;  // 3 significant figures: half a unit of the third
  if (ns < 3'600'000'000'000) return 1'000'000'000;
  return 60'000'000'000;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = watchpost::parse_duration(text);
  if (!parsed) return 0;
  const std::int64_t ns = parsed->count();
  if (ns < 0) std::abort();
  const std::string formatted = watchpost::format_duration(*parsed);
  const auto again = watchpost::parse_duration(formatted);
  if (!again) {
    std::fprintf(stderr, "format_duration(%lld ns) = '%s' does not parse\n", static_cast<long long>(ns),
                 formatted.c_str());
    std::abort();
  }
  const std::int64_t diff = again->count() > ns ? again->count() - ns : ns - again->count();
  if (diff > allowed_error(ns)) {
    std::fprintf(stderr, "%lld ns -> '%s' -> %lld ns\n", static_cast<long long>(ns), formatted.c_str(),
                 static_cast<long long>(again->count()));
    std::abort();
  }
  return 0;
}
