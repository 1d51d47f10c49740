#include "watchpost/stats/histogram.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace watchpost::stats {
namespace {

constexpr std::string_view text_prefix = "wph1.";  // format version 1
constexpr std::uint64_t highest_u64 = static_cast<std::uint64_t>(histogram::highest_trackable_value);
constexpr std::uint64_t int64_max_u64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// ---- varint (LEB128) ---------------------------------------------------------------------

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads bytes [pos, end) strictly: at most 10 bytes, no bits beyond 64, minimal encoding.
class reader {
 public:
  reader(std::string_view bytes) : bytes_(bytes) {}

  bool varint(std::uint64_t& out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) return false;
      const auto byte = static_cast<std::uint8_t>(bytes_[pos_++]);
      const std::uint64_t payload = byte & 0x7f;
      if (shift == 63 && payload > 1) return false;  // more than 64 bits
      v |= payload << shift;
      if ((byte & 0x80) == 0) {
        if (byte == 0 && shift != 0) return false;  // non-minimal encoding
        out = v;
        return true;
      }
    }
    return false;
  }

  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

// ---- checksum (FNV-1a, 32 bit) -----------------------------------------------------------

std::uint32_t fnv1a(std::string_view bytes) {
  std::uint32_t h = 2166136261u;
  for (char c : bytes) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// ---- base64url, unpadded -----------------------------------------------------------------

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{static_cast<std::uint8_t>(in[i])} << 16) |
                            (std::uint32_t{static_cast<std::uint8_t>(in[i + 1])} << 8) |
                            std::uint32_t{static_cast<std::uint8_t>(in[i + 2])};
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  const std::size_t rest = in.size() - i;
  if (rest == 1) {
    const std::uint32_t n = std::uint32_t{static_cast<std::uint8_t>(in[i])} << 16;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t n = (std::uint32_t{static_cast<std::uint8_t>(in[i])} << 16) |
                            (std::uint32_t{static_cast<std::uint8_t>(in[i + 1])} << 8);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
  }
  return out;
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict: rejects foreign characters, impossible lengths and non-zero leftover bits.
std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
    acc &= (1u << bits) - 1;
  }
  if (acc != 0) return std::nullopt;  // non-canonical tail
  return out;
}

}  // namespace

// ---- geometry ----------------------------------------------------------------------------

std::int64_t histogram::lowest_equivalent_value_at(std::size_t index) noexcept {
  if (index < sub_bucket_count) return static_cast<std::int64_t>(index);
  const std::size_t bucket = (index >> sub_bucket_half_count_magnitude) - 1;
  const std::uint64_t sub = (index & (sub_bucket_half_count - 1)) + sub_bucket_half_count;
  return static_cast<std::int64_t>(sub << bucket);
}

std::int64_t histogram::highest_equivalent_value_at(std::size_t index) noexcept {
  const std::int64_t width =
      index < sub_bucket_count ? 1 : std::int64_t{1} << ((index >> sub_bucket_half_count_magnitude) - 1);
  return std::min(lowest_equivalent_value_at(index) + width - 1, highest_trackable_value);
}

std::int64_t histogram::lowest_equivalent_value(std::int64_t value) noexcept {
  const std::int64_t v = std::clamp<std::int64_t>(value, 0, highest_trackable_value);
  return lowest_equivalent_value_at(index_of(static_cast<std::uint64_t>(v)));
}

std::int64_t histogram::highest_equivalent_value(std::int64_t value) noexcept {
  const std::int64_t v = std::clamp<std::int64_t>(value, 0, highest_trackable_value);
  return highest_equivalent_value_at(index_of(static_cast<std::uint64_t>(v)));
}

// ---- recording and queries ---------------------------------------------------------------

histogram::histogram() : counts_(counts_length, 0) {}

void histogram::record_overflow(std::uint64_t value, std::uint64_t count) noexcept {
  overflow_count_ += count;
  total_count_ += count;
  sum_ += static_cast<uint128>(value) * count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

std::int64_t histogram::min() const noexcept {
  return total_count_ == 0 ? 0 : static_cast<std::int64_t>(min_);
}

std::int64_t histogram::max() const noexcept {
  return total_count_ == 0 ? 0 : static_cast<std::int64_t>(max_);
}

double histogram::mean() const noexcept {
  if (total_count_ == 0) return 0.0;
  return static_cast<double>(static_cast<long double>(sum_) / static_cast<long double>(total_count_));
}

double histogram::stddev() const noexcept {
  if (total_count_ == 0) return 0.0;
  const long double m = static_cast<long double>(sum_) / static_cast<long double>(total_count_);
  long double squares = 0;
  for (std::size_t i = 0; i < counts_length; ++i) {
    if (counts_[i] == 0) continue;
    const long double mid =
        (static_cast<long double>(lowest_equivalent_value_at(i)) + highest_equivalent_value_at(i)) / 2;
    // Clamp to the exact extremes so a single-valued histogram has stddev 0.
    const long double x = std::clamp<long double>(mid, min_, max_);
    squares += static_cast<long double>(counts_[i]) * (x - m) * (x - m);
  }
  const long double dmax = static_cast<long double>(max_) - m;
  squares += static_cast<long double>(overflow_count_) * dmax * dmax;
  return static_cast<double>(std::sqrt(squares / static_cast<long double>(total_count_)));
}

std::int64_t histogram::value_at_quantile(double q) const noexcept {
  if (total_count_ == 0) return 0;
  if (!(q > 0.0)) return min();
  if (q >= 1.0) return max();
  const double wanted = std::ceil(q * static_cast<double>(total_count_));
  std::uint64_t rank = wanted < 1.0 ? 1 : static_cast<std::uint64_t>(wanted);
  rank = std::min(rank, total_count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_length; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::clamp(highest_equivalent_value_at(i), min(), max());
    }
  }
  return max();  // the rank lies among the overflowed samples
}

std::uint64_t histogram::count_at_or_below(std::int64_t value) const noexcept {
  if (total_count_ == 0 || value < 0 || static_cast<std::uint64_t>(value) < min_) return 0;
  if (static_cast<std::uint64_t>(value) >= max_) return total_count_;
  const std::size_t last = index_of(std::min(static_cast<std::uint64_t>(value), highest_u64));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i <= last; ++i) seen += counts_[i];
  return seen;
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_length; ++i) counts_[i] += other.counts_[i];
  total_count_ += other.total_count_;
  overflow_count_ += other.overflow_count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_count_ = 0;
  overflow_count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

bool operator==(const histogram& a, const histogram& b) noexcept {
  return a.total_count_ == b.total_count_ && a.overflow_count_ == b.overflow_count_ && a.min_ == b.min_ &&
         a.max_ == b.max_ && a.sum_ == b.sum_ && a.counts_ == b.counts_;
}

// ---- serialisation -----------------------------------------------------------------------
//
// Payload (every integer an unsigned LEB128 varint):
//   sub_bucket_half_count_magnitude, highest_trackable_value,
//   total_count, overflow_count, min, max, sum (low 64 bits), sum (high 64 bits),
//   number of non-zero buckets k, then k pairs (gap, count) where
//   index = previous index + 1 + gap (the first previous index is -1),
// followed by the FNV-1a-32 of everything before it, 4 bytes little-endian.

std::string histogram::serialize() const {
  std::string payload;
  put_varint(payload, sub_bucket_half_count_magnitude);
  put_varint(payload, highest_u64);
  put_varint(payload, total_count_);
  put_varint(payload, overflow_count_);
  put_varint(payload, min_);
  put_varint(payload, max_);
  put_varint(payload, static_cast<std::uint64_t>(sum_));
  put_varint(payload, static_cast<std::uint64_t>(sum_ >> 64));
  const auto non_zero = static_cast<std::uint64_t>(
      std::count_if(counts_.begin(), counts_.end(), [](std::uint64_t c) { return c != 0; }));
  put_varint(payload, non_zero);
  std::size_t next = 0;  // previous index + 1
  for (std::size_t i = 0; i < counts_length; ++i) {
    if (counts_[i] == 0) continue;
    put_varint(payload, i - next);
    put_varint(payload, counts_[i]);
    next = i + 1;
  }
  const std::uint32_t sum = fnv1a(payload);
  for (int shift = 0; shift < 32; shift += 8) payload.push_back(static_cast<char>((sum >> shift) & 0xff));

  std::string out(text_prefix);
  out += base64url_encode(payload);
  return out;
}

std::optional<histogram> histogram::parse(std::string_view text) {
  if (!text.starts_with(text_prefix)) return std::nullopt;
  const auto bytes = base64url_decode(text.substr(text_prefix.size()));
  if (!bytes || bytes->size() < 4) return std::nullopt;

  const std::string_view all(*bytes);
  const std::string_view body = all.substr(0, all.size() - 4);
  std::uint32_t stored = 0;
  for (int k = 0; k < 4; ++k) {
    stored |= std::uint32_t{static_cast<std::uint8_t>(all[body.size() + static_cast<std::size_t>(k)])}
              << (8 * k);
  }
  if (stored != fnv1a(body)) return std::nullopt;

  reader in(body);
  std::uint64_t magnitude = 0, highest = 0, total = 0, overflow = 0, min_v = 0, max_v = 0, sum_lo = 0,
                sum_hi = 0, non_zero = 0;
  if (!in.varint(magnitude) || !in.varint(highest) || !in.varint(total) || !in.varint(overflow) ||
      !in.varint(min_v) || !in.varint(max_v) || !in.varint(sum_lo) || !in.varint(sum_hi) ||
      !in.varint(non_zero)) {
    return std::nullopt;
  }
  if (magnitude != static_cast<std::uint64_t>(sub_bucket_half_count_magnitude) || highest != highest_u64) {
    return std::nullopt;  // another layout
  }
  if (non_zero > counts_length) return std::nullopt;

  histogram h;
  std::uint64_t in_range = 0;
  std::size_t next = 0;
  std::size_t first_index = counts_length, last_index = 0;
  for (std::uint64_t k = 0; k < non_zero; ++k) {
    std::uint64_t gap = 0, count = 0;
    if (!in.varint(gap) || !in.varint(count)) return std::nullopt;
    if (gap >= counts_length - next || count == 0) return std::nullopt;
    const std::size_t index = next + static_cast<std::size_t>(gap);
    if (in_range + count < in_range) return std::nullopt;  // overflows 64 bits
    in_range += count;
    h.counts_[index] = count;
    first_index = std::min(first_index, index);
    last_index = index;
    next = index + 1;
  }
  if (!in.at_end()) return std::nullopt;

  // The totals must agree with the buckets, and min/max with where the samples lie.
  if (in_range + overflow < in_range || in_range + overflow != total) return std::nullopt;
  const uint128 sum = (static_cast<uint128>(sum_hi) << 64) | sum_lo;
  if (total == 0) {
    if (min_v != UINT64_MAX || max_v != 0 || sum != 0) return std::nullopt;
  } else {
    if (min_v > max_v || max_v > int64_max_u64) return std::nullopt;
    if (in_range > 0) {
      if (index_of(std::min(min_v, highest_u64)) != first_index || min_v > highest_u64) return std::nullopt;
    } else if (min_v <= highest_u64) {
      return std::nullopt;
    }
    if (overflow > 0) {
      if (max_v <= highest_u64) return std::nullopt;
    } else if (max_v > highest_u64 || index_of(max_v) != last_index) {
      return std::nullopt;
    }
    if (sum < static_cast<uint128>(min_v) * total || sum > static_cast<uint128>(max_v) * total) {
      return std::nullopt;
    }
  }
  h.total_count_ = total;
  h.overflow_count_ = overflow;
  h.min_ = min_v;
  h.max_ = max_v;
  h.sum_ = sum;
  return h;
}

}  // namespace watchpost::stats
