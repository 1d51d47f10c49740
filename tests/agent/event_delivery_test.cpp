// The dispatcher's promises as a real agent keeps them: dead letters, expiry, routing by hook URL
// across a reload, order (or an opted-in collapse) when the receiver was down throughout, and the
// outbox limit. The target flips unhealthy through the test target's /control/freeze.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent_fixture.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {

struct hook_spec {
  hook_spec(std::string u, std::string e = "") : url(std::move(u)), extra(std::move(e)) {}
  std::string url;
  std::string extra;  // more flow-mapping entries, e.g. "collapse_resolved_pairs: true"
};

std::string agent_yaml(const std::string& dir, const testing::test_target& target,
                       const std::vector<hook_spec>& hooks, const std::string& agent_extra = "") {
  std::string out = "listen: 127.0.0.1:0\nstate_dir: " + dir + "/state\n" + agent_extra +
                    "targets:\n  - name: api\n    url: " + target.http_url("/health") +
                    "\n    interval: 100ms\n    timeout: 150ms\n"
                    "    slo: { availability: 90%, window: 20s, burn_alerts: [ { long: 1s, short: 500ms, "
                    "factor: 2 } ], min_requests: 3 }\n"
                    "    on_breach:\n";
  for (const auto& h : hooks)
    out += "      - { webhook: '" + h.url + "', cooldown: 0s, timeout: 300ms" +
           (h.extra.empty() ? "" : ", " + h.extra) + " }\n";
  return out;
}

std::string url_on(std::uint16_t port, const std::string& path = "/hook") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

bool has(const running_agent& agent, const std::string& line) {
  return agent.get("/metrics").find(line) != std::string::npos;
}

const std::string breached_1 = "watchpost_slo_breached{slo=\"availability\",target=\"api\"} 1";
const std::string breached_0 = "watchpost_slo_breached{slo=\"availability\",target=\"api\"} 0";

// Unhealthy until the breach shows, then healthy until it resolved.
void breach_and_resolve(const testing::test_target& target, const running_agent& agent) {
  http_get(target.http_url("/control/freeze?ms=1500"));  // a freeze cannot be shortened: it ends by itself
  REQUIRE(wait_until([&] { return has(agent, breached_1); }, 10s));
  REQUIRE(wait_until([&] { return has(agent, breached_0); }, 10s));
}

std::vector<std::string> kinds(const std::vector<received_webhook>& got) {
  std::vector<std::string> out;
  for (const auto& w : got) out.emplace_back(boost::json::parse(w.body).at("event").as_string());
  return out;
}

}  // namespace

TEST_CASE("a 401 dead-letters the breached after one attempt and its resolved is never sent") {
  testing::test_target target({"--no-tls"});
  webhook_receiver refusing, ok;
  refusing.answer_always(401);
  const auto dir = temp_dir("deadletter");
  write_text(dir + "/agent.yaml", agent_yaml(dir, target, {{refusing.url()}, {ok.url()}}));
  running_agent agent(dir + "/agent.yaml");
  breach_and_resolve(target, agent);
  REQUIRE(ok.wait_for(2, 10s));
  std::this_thread::sleep_for(1500ms);  // a retry or a resolved would arrive here
  CHECK(refusing.count() == 1);
  CHECK(kinds(ok.received()) == std::vector<std::string>{"breached", "resolved"});
  CHECK(has(agent, "watchpost_webhook_deliveries_total{result=\"dead_letter\",target=\"api\"} 1"));
  CHECK(has(agent, "watchpost_webhook_deliveries_total{result=\"delivered\",target=\"api\"} 2"));
  CHECK(has(agent, "watchpost_agent_outbox_depth 0"));
}

TEST_CASE("an event older than max_event_age is expired unsent, and no resolved follows it") {
  testing::test_target target({"--no-tls"});
  const std::uint16_t hook_port = reserve_port();  // nothing listens: the receiver is down
  const auto dir = temp_dir("expiry");
  write_text(dir + "/agent.yaml", agent_yaml(dir, target, {{url_on(hook_port)}}, "max_event_age: 1s\n"));
  running_agent agent(dir + "/agent.yaml");
  // Unhealthy for 8 s: the breached (age limit 1 s) expires at its next attempt, within 3.5 s,
  // well before the recovery could raise its resolved.
  http_get(target.http_url("/control/freeze?ms=8000"));
  REQUIRE(wait_until([&] { return has(agent, breached_1); }, 10s));
  REQUIRE(wait_until(
      [&] { return has(agent, "watchpost_webhook_deliveries_total{result=\"expired\",target=\"api\"} 1"); },
      10s));
  CHECK(has(agent, "watchpost_webhook_events_dropped_total{reason=\"expired\"} 1"));
  webhook_receiver receiver(hook_port);
  REQUIRE(wait_until([&] { return has(agent, breached_0); }, 15s));
  std::this_thread::sleep_for(1500ms);
  CHECK(receiver.count() == 0);  // neither the expired breached nor a resolved without it
  CHECK(has(agent, "watchpost_agent_outbox_depth 0"));
}

TEST_CASE("pending events follow their hook's URL across a reload and a removed hook's are dropped") {
  testing::test_target target({"--no-tls"});
  webhook_receiver kept, removed, added;
  kept.answer_always(503);
  removed.answer_always(503);
  const auto dir = temp_dir("reroute");
  write_text(dir + "/agent.yaml", agent_yaml(dir, target, {{kept.url()}, {removed.url()}}));
  running_agent agent(dir + "/agent.yaml");
  http_get(target.http_url("/control/freeze?ms=60000"));  // stays breached: no resolved
  REQUIRE(wait_until([&] { return kept.count() >= 1 && removed.count() >= 1; }, 10s));
  const std::string id = kept.received().front().event_id;
  // `added` takes the first place, where `kept` was; `removed` is gone.
  write_text(dir + "/agent.yaml", agent_yaml(dir, target, {{added.url()}, {kept.url()}}));
  agent.process().signal(SIGHUP);
  REQUIRE(wait_until(
      [&] { return has(agent, "watchpost_webhook_events_dropped_total{reason=\"hook_removed\"} 1"); }, 10s));
  const std::size_t removed_count = removed.count();
  removed.reset();
  kept.reset();
  REQUIRE(
      wait_until([&] { return !kept.received().empty() && kept.received().back().answered == 200; }, 15s));
  std::this_thread::sleep_for(1000ms);
  CHECK(kept.received().back().event_id == id);
  CHECK(added.count() == 0);  // it was never sent this breach
  CHECK(removed.count() == removed_count);
}

TEST_CASE(
    "a receiver down for a whole breach gets breached then resolved, or nothing if it asked to collapse") {
  testing::test_target target({"--no-tls"});
  const std::uint16_t plain_port = reserve_port(), collapse_port = reserve_port();
  const auto dir = temp_dir("downpair");
  write_text(dir + "/agent.yaml",
             agent_yaml(dir, target,
                        {{url_on(plain_port)}, {url_on(collapse_port), "collapse_resolved_pairs: true"}}));
  running_agent agent(dir + "/agent.yaml");
  breach_and_resolve(target, agent);
  REQUIRE(wait_until(
      [&] { return has(agent, "watchpost_webhook_events_dropped_total{reason=\"collapsed\"} 2"); }, 15s));
  webhook_receiver plain(plain_port), collapsing(collapse_port);
  REQUIRE(plain.wait_for(2, 20s));
  std::this_thread::sleep_for(1000ms);
  const auto got = plain.received();
  REQUIRE(got.size() == 2);
  CHECK(kinds(got) == std::vector<std::string>{"breached", "resolved"});
  CHECK(got[0].event_id.ends_with(":breached"));
  CHECK(got[1].event_id == got[0].event_id.substr(0, got[0].event_id.rfind(':')) + ":resolved");
  CHECK(collapsing.count() == 0);
}

TEST_CASE("a full outbox drops new breaches, counted, and never a resolved that is owed") {
  testing::test_target target({"--no-tls"});
  const std::uint16_t first_port = reserve_port(), second_port = reserve_port();
  const auto dir = temp_dir("outboxfull");
  write_text(dir + "/agent.yaml", agent_yaml(dir, target, {{url_on(first_port)}, {url_on(second_port)}},
                                             "max_outbox_events: 1\n"));
  running_agent agent(dir + "/agent.yaml");
  breach_and_resolve(target, agent);
  CHECK(has(agent, "watchpost_webhook_events_dropped_total{reason=\"outbox_full\"} 1"));
  webhook_receiver first(first_port), second(second_port);
  REQUIRE(first.wait_for(2, 20s));
  std::this_thread::sleep_for(1000ms);
  CHECK(kinds(first.received()) == std::vector<std::string>{"breached", "resolved"});
  CHECK(second.count() == 0);
}
