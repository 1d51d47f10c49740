#include "watchpost/agent/slo.hpp"

#include <catch2/catch.hpp>

#include "slo_fixture.hpp"
#include "watchpost/agent/config.hpp"
#include "watchpost/agent/outbox.hpp"

using namespace watchpost;
using namespace watchpost::agent;
using namespace std::chrono_literals;

using agent_test::run;

namespace {
target_config test_target() { return agent_test::fast_slo_target(); }
}  // namespace

TEST_CASE("a failing target breaches once and resolves once after recovery") {
  const auto t = test_target();
  auto st = target_window_state::make(t);
  wall_time now = agent_test::test_epoch;
  CHECK(run(t, st, now, 3s, true).empty());
  auto bad = run(t, st, now, 3s, false);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].kind == slo_event_kind::breached);
  CHECK(bad[0].window == "4s/1s");
  CHECK(st.slos[0].breached);
  auto good = run(t, st, now, 5s, true);
  REQUIRE(good.size() == 1);
  CHECK(good[0].kind == slo_event_kind::resolved);
  CHECK_FALSE(st.slos[0].breached);
}

TEST_CASE("min_requests guards a breach on too few probes") {
  const auto t = test_target();
  auto st = target_window_state::make(t);
  wall_time now = agent_test::test_epoch;
  now += 100ms;
  st.record(now, false, false);
  CHECK(evaluate(t, st, now).decisions.empty());
}

TEST_CASE("a second breach inside a hook's cooldown is not notified") {
  const auto t =
      agent_test::fast_slo_target("      - { webhook: 'http://127.0.0.1:1/hook', cooldown: 1h }\n");
  auto st = target_window_state::make(t);
  wall_time now = agent_test::test_epoch;
  run(t, st, now, 3s, true);
  CHECK(run(t, st, now, 2s, false).size() == 1);
  CHECK(run(t, st, now, 5s, true).size() == 1);  // resolved
  CHECK(run(t, st, now, 2s, false).empty());     // flapping: suppressed
  CHECK(run(t, st, now, 5s, true).empty());      // and no resolved for it
}

TEST_CASE("window state survives a snapshot round trip") {
  const auto t = test_target();
  auto st = target_window_state::make(t);
  wall_time now = agent_test::test_epoch;
  run(t, st, now, 3s, false);
  auto restored = target_window_state::make(t);
  std::map<std::string, target_window_state*> into{{"api", &restored}};
  state_snapshot snapshot;
  snapshot.add("other \"quoted\" name", target_window_state::make(t));
  snapshot.add("api", st);
  restore_states(snapshot.text(), into);
  CHECK(restored.slos[0].breached);
  CHECK(restored.burn_ring.sum(now, 4s).failed == st.burn_ring.sum(now, 4s).failed);
  CHECK(restored.uptime_ratio(now, 1h) == Approx(st.uptime_ratio(now, 1h)));
}

namespace {
target_config target_with_slo(const std::string& slo) {
  return parse_config("targets:\n  - { name: api, url: 'http://127.0.0.1:1/', slo: " + slo + " }\n",
                      "test.yaml")
      .targets.at(0);
}
// 2.5 h (the 30d window's slice) divides this instant, so an old-style coarse ring would hold
// the whole scenario below in one slice.
const wall_time epoch_2070 = wall_time{} + std::chrono::hours(24 * 365 * 50);

void record_span(target_window_state& st, wall_time& now, nanoseconds span, nanoseconds every, bool ok) {
  for (nanoseconds e{0}; e < span; e += every) {
    now += every;
    st.record(now, ok, false);
  }
}
}  // namespace

// The 1h figure used to come from the SLO window's ring: with a 30d window that is one 2.5 h
// slice, so a recovered target read 43% up over "1h".
TEST_CASE("uptime over 1h and 24h is right whatever the SLO window") {
  for (const char* slo :
       {"{ availability: 99.9%, window: 30d }",
        "{ availability: 90%, window: 20s, burn_alerts: [ { long: 4s, short: 1s, factor: 2 } ] }"}) {
    INFO(slo);
    const auto t = target_with_slo(slo);
    auto st = target_window_state::make(t);
    wall_time now = epoch_2070;
    record_span(st, now, 85min, 10s, false);
    record_span(st, now, 64min, 10s, true);
    CHECK(st.uptime_ratio(now, 1h) == 1.0);
    CHECK(st.uptime_ratio(now, 24h) == Approx(384.0 / 894).margin(1e-9));

    auto day = target_window_state::make(t);
    now = epoch_2070;
    record_span(day, now, 2h, 1min, false);
    record_span(day, now, 23h, 1min, true);
    // Exact: 60 failures in 1440 probes; 15-minute slices may leave up to 15 of them out.
    CHECK(day.uptime_ratio(now, 24h) == Approx(1.0 - 60.0 / 1440).margin(0.011));
    CHECK(day.uptime_ratio(now, 24h) < 0.97);
    CHECK(day.uptime_ratio(now, 1h) == 1.0);
  }
}

TEST_CASE("a target without an SLO still has exact 1h and 24h uptime") {
  const auto t =
      parse_config("targets:\n  - { name: a, url: 'http://127.0.0.1:1/' }\n", "t.yaml").targets.at(0);
  auto st = target_window_state::make(t);
  CHECK(st.window_ring.length() == 0);
  wall_time now = epoch_2070;
  record_span(st, now, 30min, 10s, false);
  record_span(st, now, 30min, 10s, true);
  CHECK(st.uptime_ratio(now, 1h) == Approx(0.5).margin(0.02));
  CHECK(st.uptime_ratio(now, 24h) == Approx(0.5).margin(1e-9));
}

TEST_CASE("the error budget left is evaluated over slo.window, once min_requests probes are in") {
  const auto t = test_target();  // availability 90% over 20s, min_requests 5
  auto st = target_window_state::make(t);
  wall_time now = epoch_2070;
  REQUIRE(error_budget_remaining(t.slo, st, now).size() == 1);
  CHECK_FALSE(error_budget_remaining(t.slo, st, now)[0].has_value());
  record_span(st, now, 400ms, 100ms, true);  // 4 probes
  CHECK_FALSE(error_budget_remaining(t.slo, st, now)[0].has_value());
  record_span(st, now, 9600ms, 100ms, true);  // 100 in all
  CHECK(error_budget_remaining(t.slo, st, now)[0] == 1.0);
  record_span(st, now, 500ms, 100ms, false);  // 5 of 105 bad, 10.5 allowed
  CHECK(*error_budget_remaining(t.slo, st, now)[0] == Approx(1.0 - 5 / 10.5));
  record_span(st, now, 17s, 100ms, true);  // the failures are still inside the 20 s window
  CHECK(*error_budget_remaining(t.slo, st, now)[0] < 0.8);
  record_span(st, now, 5s, 100ms, true);  // and now they left it
  CHECK(error_budget_remaining(t.slo, st, now)[0] == 1.0);
  record_span(st, now, 4s, 100ms, false);  // 40 bad of ~200, 20 allowed: overspent
  CHECK(*error_budget_remaining(t.slo, st, now)[0] == Approx(-1.0).margin(0.1));
  // Back to no data once the window has no probes: the series goes, it does not read 1.
  now += 1h;
  CHECK_FALSE(error_budget_remaining(t.slo, st, now)[0].has_value());
}

TEST_CASE("latency and error_rate objectives have their own error budgets") {
  const auto t = target_with_slo("{ latency: { p90: 200ms }, error_rate: 20%, window: 1h, min_requests: 1 }");
  auto st = target_window_state::make(t);
  wall_time now = epoch_2070;
  for (int i = 0; i < 100; ++i) {
    now += 1s;
    st.record(now, i % 20 != 0, i % 10 == 1);  // 5 failed; 10 slow, and failures count as slow
  }
  const auto budget = error_budget_remaining(t.slo, st, now);
  REQUIRE(budget.size() == 2);  // objectives_of order: latency_p90, error_rate
  CHECK(*budget[0] == Approx(1.0 - 15.0 / 10));
  CHECK(*budget[1] == Approx(1.0 - 5.0 / 20));
}

// A reload that changes the SLO geometry starts the SLO windows afresh, but not the uptime.
TEST_CASE("uptime survives a snapshot into a target whose SLO changed") {
  const auto before = test_target();
  auto st = target_window_state::make(before);
  wall_time now = epoch_2070;
  record_span(st, now, 10min, 10s, false);
  record_span(st, now, 10min, 10s, true);
  state_snapshot snapshot;
  snapshot.add("api", st);
  auto after = target_window_state::make(target_with_slo("{ availability: 99.9%, window: 30d }"));
  std::map<std::string, target_window_state*> into{{"api", &after}};
  restore_states(snapshot.text(), into);
  CHECK(after.uptime_ratio(now, 1h) == Approx(0.5).margin(1e-9));
  CHECK(after.uptime_ratio(now, 24h) == Approx(0.5).margin(1e-9));
  CHECK(after.burn_ring.sum(now, 1h).total == 0);
}

// The ring keeps only counts per slot and the newest slice: slots it moves past are cleared.
TEST_CASE("a slice ring clears what it passes, counts a late slice in place, restarts after a step back") {
  slice_ring ring(1s, 4);
  const wall_time t0 = epoch_2070;
  ring.record(t0, {1, 1, 1});
  ring.record(t0 + 1s, {1, 0, 0});
  ring.record(t0 + 3s, {1, 0, 0});
  CHECK(ring.sum(t0 + 3s, 4s).total == 3);
  CHECK(ring.sum(t0 + 3s, 2s).total == 1);  // slices 2 and 3
  ring.record(t0 + 2s, {1, 1, 0});          // late, still in the ring: counted in its slice
  CHECK(ring.sum(t0 + 3s, 2s).failed == 1);
  ring.record(t0 + 5s, {1, 0, 0});  // slices 0 and 1 leave the ring
  const slice_counts all = ring.sum(t0 + 5s, 4s);
  CHECK(all.total == 3);
  CHECK(all.failed == 1);
  CHECK(all.slow == 0);
  CHECK(ring.sum(t0 + 9s, 4s).total == 0);  // a long silence reads as no probes

  slice_ring copy(1s, 4);
  REQUIRE(copy.parse(ring.serialize()));
  CHECK(copy.serialize() == ring.serialize());
  CHECK(copy.sum(t0 + 5s, 4s).failed == 1);
  CHECK_FALSE(slice_ring(2s, 4).parse(ring.serialize()));

  ring.record(t0 - 1h, {1, 1, 1});  // the clock stepped back past the ring
  CHECK(ring.sum(t0 - 1h, 4s).total == 1);
  CHECK(ring.sum(t0 + 5s, 4s).total == 0);

  slice_ring uptime(1s, 4, false);  // counts no slow probes
  uptime.record(t0, {1, 1, 1});
  uptime.record(t0 + 1s, {1, 0, 0});
  const slice_counts up = uptime.sum(t0 + 1s, 4s);
  CHECK(up.total == 2);
  CHECK(up.failed == 1);
  CHECK(up.slow == 0);
  slice_ring uptime_copy(1s, 4, false);
  REQUIRE(uptime_copy.parse(uptime.serialize()));
  CHECK(uptime_copy.sum(t0 + 1s, 4s).failed == 1);
}
