// The event pipeline's durable parts without a process: the outbox's order and limit across a
// restart, start-up reconciliation of pending events with a stale snapshot, per-hook cooldowns.
#include <catch2/catch.hpp>
#include <filesystem>

#include "agent_fixture.hpp"
#include "slo_fixture.hpp"
#include "watchpost/agent/config.hpp"
#include "watchpost/agent/outbox.hpp"
#include "watchpost/agent/slo.hpp"

using namespace watchpost;
using namespace watchpost::agent;
using namespace std::chrono_literals;
using agent_test::run;

namespace {

target_config two_hook_target() {
  return agent_test::fast_slo_target(
      "      - { webhook: 'http://127.0.0.1:1/fast', cooldown: 0s }\n"
      "      - { webhook: 'http://127.0.0.1:1/slow', cooldown: 1h }\n");
}

// A fresh state after 3 s of healthy probes.
target_window_state healthy(const target_config& t, wall_time& now) {
  auto st = target_window_state::make(t);
  now = agent_test::test_epoch;
  run(t, st, now, 3s, true);
  return st;
}

// What a restart restores from a snapshot's text.
target_window_state restored_from(const std::string& snapshot, const target_config& t) {
  auto st = target_window_state::make(t);
  std::map<std::string, target_window_state*> into{{t.name, &st}};
  restore_states(snapshot, into);
  return st;
}

// The snapshot text of `t` breached (both hooks were sent it); `st` is the state it was taken of.
std::string breached_snapshot(const target_config& t, target_window_state& st, wall_time& now) {
  st = healthy(t, now);
  REQUIRE(run(t, st, now, 2s, false).size() == 1);
  state_snapshot snapshot;
  snapshot.add(t.name, st);
  return snapshot.text();
}

outbox_event event_of(const target_config& t, const slo_decision& d, std::size_t hook) {
  return {0,
          d.event_id,
          t.name,
          t.on_breach[hook].url.to_string(),
          "availability",
          d.kind == slo_event_kind::resolved,
          d.breach_ms,
          d.breach_ms,
          "{}"};
}

outbox_event named(const std::string& id) {
  outbox_event e;
  e.event_id = id;
  return e;
}

}  // namespace

TEST_CASE("outbox keeps raise order across a restart and continues the sequence") {
  const std::string dir = agent_test::temp_dir("outbox-order");
  std::vector<std::uint64_t> seqs;
  {
    outbox box(dir);
    for (int i = 0; i < 12; ++i) {
      outbox_event e{0, "id" + std::to_string(i), "api", "http://h/", "availability", i % 2 == 1, i, i, "{}"};
      std::string error;
      REQUIRE(box.put(e, error) == put_result::stored);
      seqs.push_back(e.seq);
    }
    outbox_event gone = named("id3");
    gone.seq = seqs[3];
    CHECK_FALSE(box.remove(gone));
  }
  agent_test::write_text(dir + "/garbage.json", "{not json");
  outbox again(dir);
  std::vector<std::string> errors;
  const auto loaded = again.load(errors);
  CHECK(errors.size() == 1);
  REQUIRE(loaded.size() == 11);
  for (std::size_t i = 1; i < loaded.size(); ++i) CHECK(loaded[i - 1].seq < loaded[i].seq);
  CHECK(loaded[0].event_id == "id0");
  CHECK(loaded[3].event_id == "id4");  // id3 was removed
  CHECK(loaded[4].resolved);
  outbox_event next = named("id12");
  std::string error;
  REQUIRE(again.put(next, error) == put_result::stored);
  CHECK(next.seq > seqs.back());
}

TEST_CASE("outbox adopts records of the previous format in breach order, bound to the hook's URL") {
  const std::string dir = agent_test::temp_dir("outbox-legacy");
  auto legacy = [&](const std::string& file, const std::string& id, int webhook) {
    agent_test::write_text(dir + "/" + file, "{\"event_id\":\"" + id +
                                                 "\",\"target\":\"api:v2\",\"webhook\":" +
                                                 std::to_string(webhook) + ",\"body\":\"{}\"}");
  };
  legacy("0a.json", "api:v2:availability:2000:resolved", 1);
  legacy("0b.json", "api:v2:availability:2000:breached", 1);
  legacy("0c.json", "api:v2:availability:1000:breached", 0);
  legacy("0d.json", "api:v2:availability:3000:breached", 7);  // no such hook any more
  outbox box(dir);
  std::vector<std::string> errors;
  const auto loaded = box.load(errors, [](const std::string& target, std::size_t index) {
    return target == "api:v2" && index < 2 ? "http://h/" + std::to_string(index) : std::string();
  });
  CHECK(errors.size() == 1);
  REQUIRE(loaded.size() == 3);
  CHECK(loaded[0].event_id == "api:v2:availability:1000:breached");
  CHECK(loaded[0].hook == "http://h/0");
  CHECK(loaded[1].event_id == "api:v2:availability:2000:breached");
  CHECK(loaded[2].event_id == "api:v2:availability:2000:resolved");
  CHECK(loaded[2].resolved);
  CHECK(loaded[2].breach_ms == 2000);
  CHECK(loaded[2].slo == "availability");
  CHECK(loaded[2].hook == "http://h/1");
  // Rewritten in the current format: a second start reads them back the same, with no resolver.
  outbox again(dir);
  const auto reread = again.load(errors);
  REQUIRE(reread.size() == 3);
  CHECK(reread[2].seq == loaded[2].seq);
  CHECK(reread[2].hook == "http://h/1");
}

TEST_CASE("outbox refuses breached events beyond its limit but admits the resolved it owes") {
  outbox box(agent_test::temp_dir("outbox-limit"), 2);
  std::string error;
  outbox_event a = named("a"), b = named("b"), c = named("c"), r = named("r");
  r.resolved = true;
  CHECK(box.put(a, error) == put_result::stored);
  CHECK(box.put(b, error) == put_result::stored);
  CHECK(box.put(c, error) == put_result::full);
  CHECK(box.size() == 2);
  CHECK(box.put(r, error) == put_result::stored);
  CHECK(box.size() == 3);
  CHECK_FALSE(box.remove(a));
  CHECK_FALSE(box.remove(r));
  CHECK(box.put(c, error) == put_result::stored);
}

TEST_CASE("each on_breach entry keeps its own cooldown") {
  const auto t = two_hook_target();
  wall_time now;
  auto st = healthy(t, now);
  auto first = run(t, st, now, 2s, false);
  REQUIRE(first.size() == 1);
  CHECK(first[0].hooks == std::vector<std::size_t>{0, 1});
  auto resolved = run(t, st, now, 5s, true);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].hooks == std::vector<std::size_t>{0, 1});
  auto second = run(t, st, now, 2s, false);  // inside /slow's hour, outside /fast's 0s
  REQUIRE(second.size() == 1);
  CHECK(second[0].hooks == std::vector<std::size_t>{0});
  auto resolved2 = run(t, st, now, 5s, true);
  REQUIRE(resolved2.size() == 1);
  CHECK(resolved2[0].hooks == std::vector<std::size_t>{0});  // /slow never got its breached
}

TEST_CASE("a reordered on_breach keeps each hook's cooldown (identity is the URL)") {
  auto t = two_hook_target();
  wall_time now;
  auto st = healthy(t, now);
  REQUIRE(run(t, st, now, 2s, false).size() == 1);
  REQUIRE(run(t, st, now, 5s, true).size() == 1);
  std::swap(t.on_breach[0], t.on_breach[1]);  // a reload put /slow first
  auto second = run(t, st, now, 2s, false);
  REQUIRE(second.size() == 1);
  CHECK(second[0].hooks == std::vector<std::size_t>{1});  // still /fast only
}

TEST_CASE("a breach whose outbox record outlived a stale snapshot is not raised again") {
  const auto t = two_hook_target();
  const auto objectives = objectives_of(t.slo);
  wall_time now;
  auto st = healthy(t, now);
  state_snapshot before;  // the snapshot on disk when the agent died
  before.add("api", st);
  auto breach = run(t, st, now, 2s, false);
  REQUIRE(breach.size() == 1);

  auto restored = restored_from(before.text(), t);
  REQUIRE_FALSE(restored.slos[0].breached);
  for (std::size_t h : breach[0].hooks) reconcile(restored, objectives, event_of(t, breach[0], h));
  CHECK(restored.slos[0].breached);
  restored.burn_ring = st.burn_ring;  // the same probe history as before the crash
  wall_time later = now;
  CHECK(run(t, restored, later, 1s, false).empty());  // no new id for the same breach
  auto resolved = run(t, restored, later, 5s, true);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].kind == slo_event_kind::resolved);
  CHECK(resolved[0].breach_ms == breach[0].breach_ms);
  CHECK(resolved[0].hooks == std::vector<std::size_t>{0, 1});
}

TEST_CASE("reconcile ignores events the snapshot already knows and applies a pending resolved") {
  const auto t = two_hook_target();
  const auto objectives = objectives_of(t.slo);
  wall_time now;
  auto st = healthy(t, now);
  auto breach = run(t, st, now, 2s, false);
  REQUIRE(breach.size() == 1);
  state_snapshot breached;
  breached.add("api", st);
  auto resolved = run(t, st, now, 5s, true);
  REQUIRE(resolved.size() == 1);
  auto second = run(t, st, now, 2s, false);
  REQUIRE(second.size() == 1);

  // The snapshot knows the second breach: the first pair, still pending for /slow, changes nothing.
  auto newer = st;
  for (const auto& d : {breach[0], resolved[0]}) reconcile(newer, objectives, event_of(t, d, 1));
  CHECK(newer.slos[0].breached);
  CHECK(newer.slos[0].breach_started_ms == second[0].breach_ms);

  // The snapshot says breached; the resolved record is pending: the breach is over.
  auto older = restored_from(breached.text(), t);
  REQUIRE(older.slos[0].breached);
  reconcile(older, objectives, event_of(t, resolved[0], 0));
  CHECK_FALSE(older.slos[0].breached);
  CHECK_FALSE(older.slos[0].event_open);
}

TEST_CASE("per-hook state survives a snapshot round trip") {
  const auto t = two_hook_target();
  wall_time now;
  target_window_state st;
  auto restored = restored_from(breached_snapshot(t, st, now), t);
  REQUIRE(restored.slos[0].hooks.size() == 2);
  CHECK(restored.slos[0].hooks[1].hook == "http://127.0.0.1:1/slow");
  CHECK(restored.slos[0].hooks[1].open);
  CHECK(restored.slos[0].hooks[1].last_breach_event_ms == st.slos[0].hooks[1].last_breach_event_ms);
}

TEST_CASE("pipeline settings parse with their defaults and a hook URL repeated in on_breach is refused") {
  const auto defaults = parse_config("targets: [ { name: a, url: 'http://127.0.0.1:1/' } ]\n", "d.yaml");
  CHECK(defaults.max_event_age == 1h);
  CHECK(defaults.max_outbox_events == 10000);
  const auto set = parse_config(
      "max_event_age: 10m\nmax_outbox_events: 5\ntargets:\n"
      "  - { name: a, url: 'http://127.0.0.1:1/', slo: { availability: 99% },\n"
      "      on_breach: [ { webhook: 'http://h/x', collapse_resolved_pairs: true } ] }\n",
      "s.yaml");
  CHECK(set.max_event_age == 10min);
  CHECK(set.max_outbox_events == 5);
  CHECK(set.targets.at(0).on_breach.at(0).collapse_resolved_pairs);
  CHECK_THROWS_WITH(
      parse_config("targets:\n  - { name: a, url: 'http://127.0.0.1:1/', slo: { availability: 99% },\n"
                   "      on_breach: [ { webhook: 'http://h/x' }, { webhook: 'http://h/x' } ] }\n",
                   "dup.yaml"),
      Catch::Contains("dup.yaml:3:") && Catch::Contains("duplicate on_breach webhook URL"));
  CHECK_THROWS_WITH(
      parse_config("max_outbox_events: 0\ntargets: [ { name: a, url: 'http://127.0.0.1:1/' } ]\n", "z.yaml"),
      Catch::Contains("z.yaml:1:") && Catch::Contains("max_outbox_events must be"));
}

TEST_CASE("a snapshot from before per-hook state owes the resolved to every hook") {
  const auto t = two_hook_target();
  wall_time now;
  target_window_state st;
  std::string text = breached_snapshot(t, st, now);
  const auto hooks_at = text.find("\"hooks\":");
  REQUIRE(hooks_at != std::string::npos);
  text.erase(hooks_at, text.find("],", hooks_at) + 2 - hooks_at);  // the previous format
  auto old = restored_from(text, t);
  REQUIRE(old.slos[0].event_open);
  auto resolved = run(t, old, now, 5s, true);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].hooks == std::vector<std::size_t>{0, 1});
}
