#include "watchpost/agent/slo.hpp"

#include <catch2/catch.hpp>

#include "watchpost/agent/config.hpp"
#include "watchpost/agent/outbox.hpp"
#include "watchpost/agent/webhook.hpp"

using namespace watchpost;
using namespace watchpost::agent;
using namespace std::chrono_literals;

namespace {
target_config test_target() {
  return parse_config(R"(
targets:
  - name: api
    url: http://127.0.0.1:1/
    slo:
      availability: 90%
      window: 20s
      burn_alerts: [ { long: 4s, short: 1s, factor: 2 } ]
      min_requests: 5
)", "test.yaml").targets.at(0);
}

// Records one probe every 100 ms from `from` for `span`, evaluating after each.
std::vector<slo_decision> run(const target_config& t, target_window_state& st, wall_time& now, nanoseconds span,
                              bool ok) {
  std::vector<slo_decision> out;
  for (nanoseconds e{0}; e < span; e += 100ms) {
    now += 100ms;
    st.record(now, ok, false);
    for (auto& d : evaluate(t, st, now).decisions) out.push_back(d);
  }
  return out;
}
}  // namespace

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 2") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("backoff bound doubles up to the cap") {
  retry_policy p{5, 500ms, 3s};
  CHECK(backoff_bound(p, 1) == 500ms);
  CHECK(backoff_bound(p, 2) == 1s);
  CHECK(backoff_bound(p, 3) == 2s);
  CHECK(backoff_bound(p, 4) == 3s);
}

TEST_CASE("a failing target breaches once and resolves once after recovery") {
  const auto t = test_target();
  auto st = target_window_state::make(t);
  wall_time now = wall_time{} + std::chrono::hours(24 * 365 * 50);
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
  wall_time now = wall_time{} + std::chrono::hours(24 * 365 * 50);
  now += 100ms;
  st.record(now, false, false);
  CHECK(evaluate(t, st, now).decisions.empty());
}

TEST_CASE("a second breach inside a hook's cooldown is not notified") {
  auto t = test_target();
  t.on_breach.resize(1);
  t.on_breach[0].url = std::get<probes::url>(probes::parse_url("http://127.0.0.1:1/hook"));
  t.on_breach[0].cooldown = 1h;
  auto st = target_window_state::make(t);
  wall_time now = wall_time{} + std::chrono::hours(24 * 365 * 50);
  run(t, st, now, 3s, true);
  CHECK(run(t, st, now, 2s, false).size() == 1);
  CHECK(run(t, st, now, 5s, true).size() == 1);  // resolved
  CHECK(run(t, st, now, 2s, false).empty());     // flapping: suppressed
  CHECK(run(t, st, now, 5s, true).empty());      // and no resolved for it
}

TEST_CASE("window state survives a snapshot round trip") {
  const auto t = test_target();
  auto st = target_window_state::make(t);
  wall_time now = wall_time{} + std::chrono::hours(24 * 365 * 50);
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
