// histogram::parse on arbitrary text, and on payloads framed the way serialize() frames them
// (prefix, layout header, checksum, base64url) so the fuzzer reaches the consistency checks
// behind the checksum. The framing is re-implemented here from the documented format, not
// borrowed from the code under test. Invariants for an accepted histogram: exact round trip,
// totals that agree with the buckets, quantiles ordered within [min, max], and merge adding up.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "watchpost/stats/histogram.hpp"

namespace {

using watchpost::stats::histogram;

void put_varint(std::string& out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
}

// "wph1." + base64url(layout header + body + FNV-1a 32 of both, little-endian).
std::string framed(std::string_view body) {
  std::string payload;
  put_varint(payload, histogram::sub_bucket_half_count_magnitude);
  put_varint(payload, static_cast<std::uint64_t>(histogram::highest_trackable_value));
  payload.append(body);
  std::uint32_t sum = 2166136261u;
  for (char c : payload) sum = (sum ^ static_cast<std::uint8_t>(c)) * 16777619u;
  for (int shift = 0; shift < 32; shift += 8) payload.push_back(static_cast<char>((sum >> shift) & 0xff));
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "wph1.";
  std::uint32_t bits = 0;
  int held = 0;
  for (char c : payload) {
    bits = (bits << 8) | static_cast<std::uint8_t>(c);
    for (held += 8; held >= 6; held -= 6) out.push_back(alphabet[(bits >> (held - 6)) & 63]);
  }
  if (held > 0) out.push_back(alphabet[(bits << (6 - held)) & 63]);
  return out;
}

void check_invariants(const histogram& h) {
  const auto again = histogram::parse(h.serialize());
  if (!again || !(*again == h)) std::abort();
  std::uint64_t in_buckets = 0;
  h.for_each_bucket([&](std::int64_t low, std::int64_t high, std::uint64_t n) {
    if (low > high || n == 0) std::abort();
    in_buckets += n;
  });
  if (in_buckets + h.overflow_count() != h.count()) std::abort();
  if (h.count() == 0) return;
  if (h.min() > h.max() || h.count_at_or_below(h.max()) != h.count()) std::abort();
  std::int64_t previous = h.min();
  for (double q : {0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const std::int64_t v = h.value_at_quantile(q);
    if (v < previous || v > h.max()) std::abort();
    previous = v;
  }
  const double mean = h.mean();
  if (mean < static_cast<double>(h.min()) * (1 - 1e-9) || mean > static_cast<double>(h.max()) * (1 + 1e-9))
    std::abort();
}

void check_merge(const histogram& a, const histogram& b) {
  if (a.count() + b.count() < a.count()) return;  // the counters would wrap: not a real run
  histogram merged = a;
  merged.merge(b);
  if (merged.count() != a.count() + b.count() ||
      merged.overflow_count() != a.overflow_count() + b.overflow_count())
    std::abort();
  if (a.count() > 0 && b.count() > 0 &&
      (merged.min() != std::min(a.min(), b.min()) || merged.max() != std::max(a.max(), b.max())))
    std::abort();
  check_invariants(merged);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The first byte picks raw text or framed payloads; a '|' splits two histograms to merge.
  const bool raw = data[0] & 1;
  const auto bar = rest.find('|');
  const std::string_view first = rest.substr(0, bar);
  const std::optional<histogram> a = histogram::parse(raw ? std::string(first) : framed(first));
  if (!a) return 0;
  check_invariants(*a);
  check_merge(*a, *a);
  if (bar == std::string_view::npos) return 0;
  const std::string_view second = rest.substr(bar + 1);
  const std::optional<histogram> b = histogram::parse(raw ? std::string(second) : framed(second));
  if (b) check_merge(*a, *b);
  return 0;
}
