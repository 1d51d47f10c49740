#include "watchpost/loadgen/threshold.hpp"

#include <catch2/catch.hpp>

#include "watchpost/loadgen/result.hpp"

using namespace watchpost;
using namespace watchpost::loadgen;
using namespace std::chrono_literals;

namespace {
threshold parsed(const std::string& text) {
  auto t = parse_threshold(text);
  REQUIRE(std::holds_alternative<threshold>(t));
  return std::get<threshold>(t);
}
std::string error_of(const std::string& text) {
  auto t = parse_threshold(text);
  REQUIRE(std::holds_alternative<threshold_error>(t));
  return std::get<threshold_error>(t).message;
}
}  // namespace

TEST_CASE("thresholds parse into plain values") {
  auto p99 = parsed("p99<250ms");
  CHECK(p99.metric == threshold_metric::latency_quantile);
  CHECK(p99.quantile == Approx(0.99));
  CHECK(p99.op == comparison::less);
  CHECK(p99.value == Approx(250e6));
  CHECK_FALSE(p99.window);

  auto p999 = parsed("p99.9 <= 1s");
  CHECK(p999.quantile == Approx(0.999));
  CHECK(p999.op == comparison::less_equal);

  auto errors = parsed("error_rate<0.1%");
  CHECK(errors.metric == threshold_metric::error_rate);
  CHECK(errors.value == Approx(0.001));
  CHECK(parsed("error_rate<0.02").value == Approx(0.02));

  auto rps = parsed("rps>9000");
  CHECK(rps.metric == threshold_metric::rps);
  CHECK(rps.op == comparison::greater);
  CHECK(rps.value == Approx(9000));

  auto windowed = parsed("p99<250ms,window=10s");
  REQUIRE(windowed.window);
  CHECK(*windowed.window == 10s);
  CHECK(parsed("max<2s").metric == threshold_metric::latency_max);
  CHECK(parsed("errors<=0").op == comparison::less_equal);
}

TEST_CASE("malformed thresholds are one-line errors naming the threshold") {
  CHECK(error_of("p99 250ms").find("missing comparison") != std::string::npos);
  CHECK(error_of("latency<2s").find("unknown metric") != std::string::npos);
  CHECK(error_of("p99<250").find("duration") != std::string::npos);
  CHECK(error_of("p101<1s").find("percentile") != std::string::npos);
  CHECK(error_of("error_rate<150%").find("error_rate") != std::string::npos);
  CHECK(error_of("p99<1s,window=1500ms").find("whole number") != std::string::npos);
  CHECK(error_of("p99<1s,every=2s").find("unknown option") != std::string::npos);
  CHECK(error_of("rps>").find("missing value") != std::string::npos);
}

TEST_CASE("thresholds evaluate over the whole run") {
  stats::histogram h;
  for (int i = 1; i <= 100; ++i) h.record(i * 1'000'000);  // 1..100 ms
  window_stats w{1000, 5, 10.0, &h};
  CHECK(holds(parsed("p99<250ms"), observe(parsed("p99<250ms"), w)));
  CHECK_FALSE(holds(parsed("p99<50ms"), observe(parsed("p99<50ms"), w)));
  CHECK(*observe(parsed("error_rate<1%"), w) == Approx(0.005));
  CHECK(holds(parsed("error_rate<1%"), 0.005));
  CHECK_FALSE(holds(parsed("error_rate<0.1%"), 0.005));
  CHECK(*observe(parsed("rps>50"), w) == Approx(100));
  CHECK_FALSE(holds(parsed("rps>100"), 100));
  CHECK(holds(parsed("rps>=100"), 100));
  CHECK(describe_observed(parsed("error_rate<1%"), 0.005) == "error_rate=0.500%");
}

TEST_CASE("windowed thresholds fail on the worst window and name it") {
  load_result r;
  r.parameters.model = "closed";
  stats::histogram fast, slow, none;
  fast.record(1'000'000);
  slow.record(400'000'000);
  counters one;
  one.requests = 1;
  for (int s = 0; s < 30; ++s) r.add_interval(s, one, s == 12 ? slow : fast, none);
  r.elapsed_seconds = 30;
  const auto whole = parsed("p50<250ms");
  const auto windowed = parsed("max<250ms,window=5s");
  const auto outcomes = evaluate_thresholds({whole, windowed}, r);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].passed);
  CHECK(outcomes[0].where == "whole run");
  CHECK_FALSE(outcomes[1].passed);
  CHECK(outcomes[1].where == "window 8s-13s");
  // The latest window alone (seconds 25..29) passes.
  const auto latest = evaluate_latest_windows({windowed}, r);
  REQUIRE(latest.size() == 1);
  CHECK(latest[0].passed);
  // A window longer than the run is judged over the whole run.
  CHECK_FALSE(evaluate_thresholds({parsed("max<250ms,window=60s")}, r)[0].passed);
}

TEST_CASE("a threshold never passes vacuously: no responses, no requests, no window") {
  const stats::histogram empty;
  const window_stats nothing{0, 0, 3.0, &empty};
  for (const char* text : {"p99<250ms", "min<1s", "mean<1s", "max<1s"}) {
    INFO(text);
    CHECK_FALSE(observe(parsed(text), nothing).has_value());
    CHECK_FALSE(holds(parsed(text), observe(parsed(text), nothing)));
    CHECK(describe_observed(parsed(text), observe(parsed(text), nothing)) == "no responses measured");
  }
  CHECK_FALSE(holds(parsed("p99<250ms"), observe(parsed("p99<250ms"), window_stats{0, 0, 3.0, nullptr})));
  // Zero requests is not 0% errors, nor zero errors.
  for (const char* text : {"error_rate<1%", "errors<=0", "rps>0", "rps<100"}) {
    INFO(text);
    CHECK_FALSE(holds(parsed(text), observe(parsed(text), nothing)));
    CHECK(describe_observed(parsed(text), observe(parsed(text), nothing)) == "no requests measured");
  }
  // rps over a window of no length.
  stats::histogram one;
  one.record(1'000'000);
  CHECK_FALSE(holds(parsed("rps>1"), observe(parsed("rps>1"), window_stats{5, 0, 0.0, &one})));
  // `requests` is a count: zero is a measurement.
  CHECK(holds(parsed("requests<10"), observe(parsed("requests<10"), nothing)));
  CHECK_FALSE(holds(parsed("requests>0"), observe(parsed("requests>0"), nothing)));
}

TEST_CASE("dropped sends count in error_rate and keep it measured") {
  stats::histogram h;
  h.record(1'000'000);
  // 90 responses, 1 error, 10 dropped: (1 + 10) / (90 + 10).
  const window_stats w{90, 1, 1.0, &h, 10};
  CHECK(*observe(parsed("error_rate<1%"), w) == Approx(0.11));
  CHECK_FALSE(holds(parsed("error_rate<10%"), observe(parsed("error_rate<10%"), w)));
  // All dropped, none sent: 100% errors, not "no requests".
  const window_stats all_dropped{0, 0, 1.0, nullptr, 5};
  CHECK(*observe(parsed("error_rate<1%"), all_dropped) == Approx(1.0));
}

TEST_CASE("a run with no responses fails its latency gate over the whole run and in windows") {
  load_result r;
  r.parameters.model = "closed";
  stats::histogram none;
  counters idle;
  for (int s = 0; s < 3; ++s) r.add_interval(s, idle, none, none);
  r.totals.in_flight_at_end = 4;
  r.elapsed_seconds = 3;
  const auto outcomes =
      evaluate_thresholds({parsed("p99<250ms"), parsed("error_rate<1%"), parsed("p99<1s,window=1s")}, r);
  REQUIRE(outcomes.size() == 3);
  for (const auto& o : outcomes) CHECK_FALSE(o.passed);
  CHECK(outcomes[0].observed == "no responses measured");
  CHECK_FALSE(outcomes[0].measured);
  CHECK(outcomes[1].observed == "no requests measured");
  CHECK(outcomes[2].observed == "no responses measured");
}
