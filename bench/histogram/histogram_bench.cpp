// Measures watchpost::stats::histogram::record() on ~100M pre-generated latencies.
//
// usage: histogram_bench [--check]
//   prints ns_per_record=<x> (plus context on stderr); with --check, exits 1 when the
//   cost is above the 5 ns/sample target.
//
// The values (2^24 of them, 128 MiB) are drawn before timing from a realistic latency mix:
// lognormal around 2 ms with a 1% slow mode around 300 ms and a few 1-60 s stragglers. They
// are replayed 6 times (100,663,296 records) so the generator costs nothing in the loop and
// the bucket pattern is far too long for the branch predictor to learn.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "watchpost/stats/histogram.hpp"

namespace {

std::vector<std::int64_t> latencies(std::size_t n) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> normal(std::log(2e6), 0.6);
  std::lognormal_distribution<double> slow(std::log(300e6), 0.5);
  std::uniform_real_distribution<double> straggler(1e9, 60e9);
  std::uniform_real_distribution<double> pick(0.0, 1.0);
  std::vector<std::int64_t> out(n);
  for (auto& v : out) {
    const double p = pick(rng);
    const double x = p < 0.989 ? normal(rng) : p < 0.999 ? slow(rng) : straggler(rng);
    v = static_cast<std::int64_t>(x);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") == 0) {
      check = true;
    } else {
      std::fprintf(stderr, "usage: %s [--check]\n", argv[0]);
      return 2;
    }
  }

  constexpr std::size_t values_count = std::size_t{1} << 24;
  constexpr int passes = 6;
  const std::vector<std::int64_t> values = latencies(values_count);

  watchpost::stats::histogram h;
  for (std::size_t i = 0; i < values_count / 16; ++i) h.record(values[i]);  // warm caches
  h.reset();

  std::uint64_t rejected = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int pass = 0; pass < passes; ++pass) {
    for (const std::int64_t v : values) rejected += h.record(v) ? 0 : 1;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;

  const auto records = static_cast<double>(values_count) * passes;
  const double ns_per_record = static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / records;
  // Use the result so the loop cannot be optimised away.
  std::fprintf(stderr, "records=%.0f rejected=%llu p50=%lld p99=%lld p9999=%lld max=%lld\n", records,
               static_cast<unsigned long long>(rejected), static_cast<long long>(h.value_at_quantile(0.5)),
               static_cast<long long>(h.value_at_quantile(0.99)),
               static_cast<long long>(h.value_at_quantile(0.9999)), static_cast<long long>(h.max()));
  std::printf("ns_per_record=%.3f\n", ns_per_record);
  if (h.count() != values_count * passes) return 3;
  return check && ns_per_record > 5.0 ? 1 : 0;
}
