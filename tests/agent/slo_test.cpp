#include "watchpost/agent/slo.hpp"

#include <catch2/catch.hpp>

#include "watchpost/agent/config.hpp"
#include "watchpost/agent/outbox.hpp"
#include "watchpost/agent/webhook.hpp"
#include "slo_fixture.hpp"

using namespace watchpost;
using namespace watchpost::agent;
using namespace std::chrono_literals;

using agent_test::run;

namespace {
target_config test_target() { return agent_test::fast_slo_target(); }
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
  const auto t = agent_test::fast_slo_target("      - { webhook: 'http://127.0.0.1:1/hook', cooldown: 1h }\n");
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
