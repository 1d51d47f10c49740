// HDR-style log-linear latency histogram (the layout of HdrHistogram_c).
//
// Values are nanoseconds (std::int64_t). The layout is fixed, so every histogram in a run,
// in a shard or in a saved report has the same buckets and merges exactly:
//
//   * Values are recorded in nanoseconds directly (lowest discernible unit 1 ns).
//   * 256 sub-buckets in bucket 0 (values 0..255 ns are exact), then 128 sub-buckets per
//     power of two: a value v >= 256 lands in a bucket of width 2^k with v >= 128 * 2^k,
//     so a bucket's width is at most 1/128 (0.78%) of any value in it.
//   * Trackable range 0 ns .. highest_trackable_value (1 h). Negative values are recorded
//     as 0. Values above 1 h are not dropped silently: they are counted in overflow_count()
//     and count(), take part in min(), max() and mean() exactly, and record() returns false
//     (HdrHistogram's hdr_record_value contract).
//   * 4,562 counters (36 KiB), allocated once in the constructor; recording never
//     allocates, so the memory of a run does not grow with its length.
//
// Quantiles return the highest value equivalent to the bucket holding the nearest-rank
// sample (rank = ceil(q * count)), clamped to [min(), max()]. That never under-reports a
// latency and is within +0.78% of the exact nearest-rank quantile.
//
// Thread safety: none. Like wrk2, each worker records into its own histogram and the run's
// histograms are merged after the workers finish.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace watchpost::stats {

namespace detail {
inline constexpr int sub_bucket_half_count_magnitude = 7;
inline constexpr std::uint64_t sub_bucket_half_count = std::uint64_t{1} << sub_bucket_half_count_magnitude;
inline constexpr std::uint64_t sub_bucket_count = 2 * sub_bucket_half_count;
inline constexpr std::int64_t highest_trackable_value = 3'600'000'000'000;  // 1 h in ns

// Counts index of a value: bucket b >= 1 holds [128 * 2^b, 256 * 2^b) in 128 sub-buckets of
// width 2^b; bucket 0 holds 0..255 exactly. Indices are contiguous across buckets.
constexpr std::size_t index_of(std::uint64_t value) noexcept {
  // Bit length of value, at least that of sub_bucket_count - 1.
  const int pow2_ceiling = std::bit_width(value | (sub_bucket_count - 1));
  const int bucket_index = pow2_ceiling - (sub_bucket_half_count_magnitude + 1);
  const std::uint64_t sub_bucket_index = value >> bucket_index;
  return (static_cast<std::size_t>(bucket_index) << sub_bucket_half_count_magnitude) +
         static_cast<std::size_t>(sub_bucket_index);
}

inline constexpr std::size_t counts_length =
    index_of(static_cast<std::uint64_t>(highest_trackable_value)) + 1;
static_assert(counts_length == 4562);
}  // namespace detail

class histogram {
 public:
  // Layout (fixed; part of the serialised format).
  static constexpr int sub_bucket_half_count_magnitude = detail::sub_bucket_half_count_magnitude;
  static constexpr std::uint64_t sub_bucket_half_count = detail::sub_bucket_half_count;  // 128
  static constexpr std::uint64_t sub_bucket_count = detail::sub_bucket_count;            // 256
  static constexpr std::int64_t highest_trackable_value = detail::highest_trackable_value;
  static constexpr std::size_t counts_length = detail::counts_length;  // 4562

  // Bucket geometry, for tests and exporters.
  static constexpr std::size_t index_of(std::uint64_t value) noexcept { return detail::index_of(value); }
  // Inclusive bounds of a counts index / of the bucket holding a value (clamped to range).
  static std::int64_t lowest_equivalent_value_at(std::size_t index) noexcept;
  static std::int64_t highest_equivalent_value_at(std::size_t index) noexcept;
  static std::int64_t lowest_equivalent_value(std::int64_t value) noexcept;
  static std::int64_t highest_equivalent_value(std::int64_t value) noexcept;

  histogram();

  // Records one sample (or `count` samples) of `value` nanoseconds. Returns false when the
  // value is above highest_trackable_value (it is still counted, as overflow).
  bool record(std::int64_t value) noexcept { return record(value, 1); }
  bool record(std::int64_t value, std::uint64_t count) noexcept {
    const std::uint64_t v = value < 0 ? 0 : static_cast<std::uint64_t>(value);
    if (count == 0) [[unlikely]] {
      return v <= static_cast<std::uint64_t>(highest_trackable_value);
    }
    if (v > static_cast<std::uint64_t>(highest_trackable_value)) [[unlikely]] {
      record_overflow(v, count);
      return false;
    }
    counts_[index_of(v)] += count;
    total_count_ += count;
    sum_ += static_cast<uint128>(v) * count;
    min_ = v < min_ ? v : min_;
    max_ = v > max_ ? v : max_;
    return true;
  }

  // Number of samples recorded, overflowed ones included.
  std::uint64_t count() const noexcept { return total_count_; }
  // Samples above highest_trackable_value.
  std::uint64_t overflow_count() const noexcept { return overflow_count_; }
  // Exact smallest / largest recorded value (0 when empty).
  std::int64_t min() const noexcept;
  std::int64_t max() const noexcept;
  // Exact arithmetic mean (0 when empty).
  double mean() const noexcept;
  // Population standard deviation around the exact mean, computed from the buckets
  // (each sample taken at its bucket's midpoint; overflowed samples at max()). 0 when empty.
  double stddev() const noexcept;

  // q in [0, 1] (clamped; NaN is treated as 0). q = 0 gives min(), q = 1 gives max(),
  // an empty histogram gives 0.
  std::int64_t value_at_quantile(double q) const noexcept;

  // Samples in buckets whose lower bound is <= value (the bucket holding `value` counts
  // whole). Exact at the ends: 0 below min(), count() at or above max(). Meant for
  // Prometheus `le` buckets.
  std::uint64_t count_at_or_below(std::int64_t value) const noexcept;

  // Calls f(lower_bound, upper_bound, count) for every non-empty in-range bucket in
  // ascending order; bounds are inclusive nanoseconds (upper_bound is capped at
  // highest_trackable_value). Overflowed samples are not visited: see overflow_count().
  template <class F>
  void for_each_bucket(F&& f) const {
    for (std::size_t i = 0; i < counts_length; ++i) {
      if (counts_[i] != 0) {
        f(lowest_equivalent_value_at(i), highest_equivalent_value_at(i), counts_[i]);
      }
    }
  }

  // Adds every sample of `other`: merge(a, b) equals the histogram of the union.
  void merge(const histogram& other) noexcept;
  void reset() noexcept;

  // Compact text form: "wph1." followed by unpadded base64url of a varint-encoded payload
  // (layout, totals, min, max, sum, non-zero buckets as index deltas, checksum). Safe to
  // embed in a JSON string or a URL. parse() returns nullopt on any malformed, truncated
  // or inconsistent input, or on another version/layout; the round trip is exact.
  std::string serialize() const;
  static std::optional<histogram> parse(std::string_view text);

  // Same samples: equal counts, totals, overflow, min, max and sum.
  friend bool operator==(const histogram& a, const histogram& b) noexcept;

 private:
  __extension__ typedef unsigned __int128 uint128;

  void record_overflow(std::uint64_t value, std::uint64_t count) noexcept;

  std::vector<std::uint64_t> counts_;  // counts_length entries, never resized
  std::uint64_t total_count_ = 0;
  std::uint64_t overflow_count_ = 0;
  std::uint64_t min_ = UINT64_MAX;  // sentinel while empty
  std::uint64_t max_ = 0;
  uint128 sum_ = 0;  // exact sum of recorded values
};

}  // namespace watchpost::stats
