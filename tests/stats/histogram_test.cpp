#include "watchpost/stats/histogram.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

using watchpost::stats::histogram;

namespace {

constexpr std::int64_t us = 1'000;
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000'000'000;

// Nearest-rank quantile of sorted samples: the ceil(q * n)-th smallest (1-based).
std::int64_t exact_quantile(const std::vector<std::int64_t>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(q * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::vector<std::int64_t> draw(std::size_t n, const std::function<double(std::mt19937_64&)>& next) {
  std::mt19937_64 rng(20240611);
  std::vector<std::int64_t> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = next(rng);
    out.push_back(static_cast<std::int64_t>(std::clamp(v, 1.0 * us, 3600.0 * sec)));
  }
  return out;
}

void check_quantiles(std::vector<std::int64_t> samples) {
  histogram h;
  for (auto v : samples) REQUIRE(h.record(v));
  std::sort(samples.begin(), samples.end());
  REQUIRE(h.count() == samples.size());
  CHECK(h.min() == samples.front());
  CHECK(h.max() == samples.back());
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    const auto exact = static_cast<double>(exact_quantile(samples, q));
    const auto got = static_cast<double>(h.value_at_quantile(q));
    INFO("q=" << q << " exact=" << exact << " got=" << got);
    CHECK(std::abs(got - exact) <= 0.01 * exact);
    CHECK(got >= exact);  // highest-equivalent never under-reports
  }
  long double sum = 0;
  for (auto v : samples) sum += static_cast<long double>(v);
  const double mean = static_cast<double>(sum / samples.size());
  CHECK(h.mean() == Approx(mean).epsilon(1e-12));
  long double sq = 0;
  for (auto v : samples) sq += (v - sum / samples.size()) * (v - sum / samples.size());
  const double sd = std::sqrt(static_cast<double>(sq / samples.size()));
  CHECK(h.stddev() == Approx(sd).epsilon(0.01));
}

histogram of(const std::vector<std::int64_t>& values) {
  histogram h;
  for (auto v : values) h.record(v);
  return h;
}

}  // namespace

TEST_CASE("layout: buckets are contiguous and at most 1/128 of their values wide", "[histogram]") {
  CHECK(histogram::counts_length == 4562);
  CHECK(histogram::index_of(0) == 0);
  CHECK(histogram::index_of(255) == 255);
  CHECK(histogram::index_of(256) == 256);
  CHECK(histogram::index_of(histogram::highest_trackable_value) == histogram::counts_length - 1);
  for (std::size_t i = 0; i + 1 < histogram::counts_length; ++i) {
    const auto lo = histogram::lowest_equivalent_value_at(i);
    const auto hi = histogram::highest_equivalent_value_at(i);
    REQUIRE(histogram::lowest_equivalent_value_at(i + 1) == hi + 1);
    REQUIRE(histogram::index_of(static_cast<std::uint64_t>(lo)) == i);
    REQUIRE(histogram::index_of(static_cast<std::uint64_t>(hi)) == i);
    REQUIRE(static_cast<double>(hi - lo) <= static_cast<double>(lo) / 128.0);
  }
  CHECK(histogram::highest_equivalent_value_at(histogram::counts_length - 1) ==
        histogram::highest_trackable_value);
  CHECK(histogram::lowest_equivalent_value(1000) <= 1000);
  CHECK(histogram::highest_equivalent_value(1000) >= 1000);
}

TEST_CASE("empty histogram", "[histogram]") {
  histogram h;
  CHECK(h.count() == 0);
  CHECK(h.overflow_count() == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0.0);
  CHECK(h.stddev() == 0.0);
  CHECK(h.value_at_quantile(0.0) == 0);
  CHECK(h.value_at_quantile(0.5) == 0);
  CHECK(h.value_at_quantile(1.0) == 0);
  CHECK(h.count_at_or_below(1'000'000) == 0);
  int buckets = 0;
  h.for_each_bucket([&](std::int64_t, std::int64_t, std::uint64_t) { ++buckets; });
  CHECK(buckets == 0);
  CHECK(h == histogram{});
}

TEST_CASE("quantiles within 1% of exact for 1,000,000 samples", "[histogram]") {
  constexpr std::size_t n = 1'000'000;
  SECTION("uniform 1 us .. 1 s") {
    std::uniform_real_distribution<double> d(1.0 * us, 1.0 * sec);
    check_quantiles(draw(n, [&](std::mt19937_64& r) { return d(r); }));
  }
  SECTION("exponential, mean 20 ms") {
    std::exponential_distribution<double> d(1.0 / (20.0 * ms));
    check_quantiles(draw(n, [&](std::mt19937_64& r) { return d(r); }));
  }
  SECTION("lognormal heavy tail, median 5 ms, sigma 2") {
    std::lognormal_distribution<double> d(std::log(5.0 * ms), 2.0);
    check_quantiles(draw(n, [&](std::mt19937_64& r) { return d(r); }));
  }
  SECTION("bimodal: 95% around 2 ms, 5% around 800 ms") {
    std::normal_distribution<double> fast(2.0 * ms, 0.3 * ms);
    std::normal_distribution<double> slow(800.0 * ms, 100.0 * ms);
    std::bernoulli_distribution pick_slow(0.05);
    check_quantiles(draw(n, [&](std::mt19937_64& r) { return pick_slow(r) ? slow(r) : fast(r); }));
  }
  SECTION("full range 1 us .. 1 h, log-uniform") {
    std::uniform_real_distribution<double> d(std::log(1.0 * us), std::log(3600.0 * sec));
    check_quantiles(draw(n, [&](std::mt19937_64& r) { return std::exp(d(r)); }));
  }
}

TEST_CASE("min, max and mean are exact", "[histogram]") {
  histogram h;
  h.record(1'234'567);
  h.record(1'234'569);
  h.record(7'654'321'987);
  CHECK(h.min() == 1'234'567);
  CHECK(h.max() == 7'654'321'987);
  CHECK(h.mean() == Approx((1'234'567.0 + 1'234'569.0 + 7'654'321'987.0) / 3).epsilon(1e-15));
  CHECK(h.value_at_quantile(0.0) == 1'234'567);
  CHECK(h.value_at_quantile(1.0) == 7'654'321'987);
  CHECK(h.value_at_quantile(0.99) == 7'654'321'987);  // clamped to max
  CHECK(h.value_at_quantile(-3.0) == 1'234'567);
  CHECK(h.value_at_quantile(7.0) == 7'654'321'987);
  CHECK(h.value_at_quantile(std::nan("")) == 1'234'567);

  histogram one;
  one.record(5 * ms);
  CHECK(one.stddev() == 0.0);
  CHECK(one.value_at_quantile(0.5) == 5 * ms);
}

TEST_CASE("record with a count, and negative values go to zero", "[histogram]") {
  histogram a, b;
  a.record(42 * us, 3);
  for (int i = 0; i < 3; ++i) b.record(42 * us);
  CHECK(a == b);
  CHECK(a.record(42 * us, 0));
  CHECK(a == b);

  histogram n;
  CHECK(n.record(-5));
  CHECK(n.min() == 0);
  CHECK(n.count() == 1);
}

TEST_CASE("values above 1 h are counted as overflow, not dropped", "[histogram]") {
  histogram h;
  CHECK(h.record(histogram::highest_trackable_value));
  CHECK_FALSE(h.record(histogram::highest_trackable_value + 1));
  CHECK_FALSE(h.record(5 * histogram::highest_trackable_value, 2));
  CHECK(h.record(10 * ms));
  CHECK(h.count() == 5);
  CHECK(h.overflow_count() == 3);
  CHECK(h.max() == 5 * histogram::highest_trackable_value);
  CHECK(h.min() == 10 * ms);
  CHECK(h.value_at_quantile(0.99) == 5 * histogram::highest_trackable_value);
  CHECK(h.value_at_quantile(0.2) == histogram::highest_equivalent_value(10 * ms));
  CHECK(h.count_at_or_below(histogram::highest_trackable_value) == 2);
  CHECK(h.count_at_or_below(histogram::highest_trackable_value * 2) == 2);
  CHECK(h.count_at_or_below(h.max()) == 5);
  std::uint64_t visited = 0;
  h.for_each_bucket([&](std::int64_t, std::int64_t, std::uint64_t c) { visited += c; });
  CHECK(visited == 2);

  histogram only;
  CHECK_FALSE(only.record(std::numeric_limits<std::int64_t>::max()));
  CHECK(only.max() == std::numeric_limits<std::int64_t>::max());
  CHECK(only.value_at_quantile(0.5) == std::numeric_limits<std::int64_t>::max());
  const auto back = histogram::parse(only.serialize());
  REQUIRE(back);
  CHECK(*back == only);
}

TEST_CASE("count_at_or_below and for_each_bucket", "[histogram]") {
  histogram h;
  for (std::int64_t v = 1; v <= 1000; ++v) h.record(v * us);
  CHECK(h.count_at_or_below(0) == 0);
  CHECK(h.count_at_or_below(-1) == 0);
  CHECK(h.count_at_or_below(999) == 0);
  CHECK(h.count_at_or_below(1000 * us) == 1000);
  CHECK(h.count_at_or_below(10 * sec) == 1000);
  const auto half = h.count_at_or_below(500 * us);
  CHECK(half >= 500);
  CHECK(half <= 505);  // the bucket holding 500 us counts whole
  std::uint64_t prev = 0;
  for (std::int64_t le = 0; le <= 1100 * us; le += 7 * us) {
    const auto c = h.count_at_or_below(le);
    REQUIRE(c >= prev);
    prev = c;
  }

  std::uint64_t total = 0;
  std::int64_t last_upper = -1;
  h.for_each_bucket([&](std::int64_t lo, std::int64_t hi, std::uint64_t c) {
    REQUIRE(lo > last_upper);
    REQUIRE(hi >= lo);
    REQUIRE(c > 0);
    REQUIRE(h.count_at_or_below(hi) >= total + c);
    last_upper = hi;
    total += c;
  });
  CHECK(total == 1000);
}

TEST_CASE("merge equals the histogram of the union", "[histogram]") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> slowish(std::log(30.0 * ms), 1.5);
  std::exponential_distribution<double> fast(1.0 / (300.0 * us));
  std::vector<std::int64_t> a, b;
  for (int i = 0; i < 200'000; ++i) a.push_back(static_cast<std::int64_t>(slowish(rng)));
  for (int i = 0; i < 300'000; ++i) b.push_back(static_cast<std::int64_t>(fast(rng)));
  a.push_back(2 * histogram::highest_trackable_value);  // overflow merges too

  histogram ha = of(a), hb = of(b);
  std::vector<std::int64_t> u = a;
  u.insert(u.end(), b.begin(), b.end());
  const histogram hu = of(u);

  histogram m = ha;
  m.merge(hb);
  CHECK(m == hu);
  histogram m2 = hb;
  m2.merge(ha);
  CHECK(m2 == hu);
  CHECK(m.count() == u.size());
  CHECK(m.overflow_count() == 1);
  CHECK_FALSE(m == ha);

  histogram e;
  e.merge(histogram{});
  CHECK(e == histogram{});
  e.merge(ha);
  CHECK(e == ha);

  m.reset();
  CHECK(m == histogram{});
  CHECK(m.count() == 0);
}

TEST_CASE("serialize -> parse round trip is exact", "[histogram]") {
  SECTION("empty") {
    const histogram h;
    const auto back = histogram::parse(h.serialize());
    REQUIRE(back);
    CHECK(*back == h);
  }
  SECTION("one million lognormal samples with overflow") {
    std::mt19937_64 rng(99);
    std::lognormal_distribution<double> d(std::log(5.0 * ms), 2.0);
    histogram h;
    for (int i = 0; i < 1'000'000; ++i) h.record(static_cast<std::int64_t>(d(rng)));
    h.record(0);
    h.record(histogram::highest_trackable_value + 12345, 7);
    const std::string text = h.serialize();
    INFO("size " << text.size());
    CHECK(text.size() < 16'000);
    CHECK(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
          std::string::npos);
    const auto back = histogram::parse(text);
    REQUIRE(back);
    CHECK(*back == h);
    CHECK(back->count() == h.count());
    CHECK(back->overflow_count() == 7);
    CHECK(back->min() == 0);
    CHECK(back->max() == h.max());
    CHECK(back->mean() == h.mean());
    CHECK(back->serialize() == text);
  }
}

TEST_CASE("parse rejects malformed input", "[histogram]") {
  histogram h;
  for (std::int64_t v : {1 * us, 3 * ms, 3 * ms, 250 * ms, 12 * sec}) h.record(v);
  h.record(histogram::highest_trackable_value * 2);
  const std::string good = h.serialize();
  REQUIRE(histogram::parse(good));

  CHECK_FALSE(histogram::parse(""));
  CHECK_FALSE(histogram::parse("wph1."));
  CHECK_FALSE(histogram::parse("wph1"));
  CHECK_FALSE(histogram::parse("garbage"));
  CHECK_FALSE(histogram::parse("wph2." + good.substr(5)));
  CHECK_FALSE(histogram::parse("WPH1." + good.substr(5)));
  CHECK_FALSE(histogram::parse(good + "A"));
  CHECK_FALSE(histogram::parse(good + "AA"));
  CHECK_FALSE(histogram::parse(good + "="));
  CHECK_FALSE(histogram::parse(" " + good));

  for (std::size_t len = 0; len < good.size(); ++len) {
    INFO("truncated to " << len);
    REQUIRE_FALSE(histogram::parse(std::string_view(good).substr(0, len)));
  }
  // Every single-character substitution is caught (checksum / strict decoding).
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t i = 5; i < good.size(); ++i) {
    for (char c : {'A', 'z', '9', '_', '+', '/', '=', '\0', '\xff'}) {
      if (c == good[i]) continue;
      std::string bad = good;
      bad[i] = c;
      INFO("position " << i << " char " << static_cast<int>(c));
      REQUIRE_FALSE(histogram::parse(bad));
    }
  }
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 200), letter(0, 63);
  for (int i = 0; i < 20'000; ++i) {
    std::string junk = i % 2 == 0 ? "wph1." : "";
    const int n = length(rng);
    for (int k = 0; k < n; ++k) {
      junk.push_back(i % 4 < 2 ? alphabet[static_cast<std::size_t>(letter(rng))]
                               : static_cast<char>(byte(rng)));
    }
    REQUIRE_FALSE(histogram::parse(junk));
  }
}
