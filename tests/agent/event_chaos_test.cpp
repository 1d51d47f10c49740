// kill -9 at random moments across fast breach -> resolve cycles while the webhook receiver is up,
// down and answering 503: after a final restart and drain, every raised event was delivered, each
// copy carries its id, and each hook saw breached/resolved strictly alternating.
// "Raised" is read from the agent's own log ("slo breached|resolved" event_id=...), which it writes
// only once the event's outbox record is durable, independently of the receiver.
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "agent_fixture.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {

constexpr int kills = 50;

// The agent with its log (stderr) appended to `log`: exec keeps the pid the agent's, for SIGKILL.
struct agent_run {
  std::unique_ptr<testing::child_process> process;
  std::uint16_t port = 0;
};
agent_run start_agent(const std::string& config, const std::string& log) {
  auto p = std::make_unique<testing::child_process>(
      "/bin/sh", std::vector<std::string>{"-c", "exec \"$0\" agent \"$1\" 2>>\"$2\"",
                                          testing::watchpost_binary_path(), config, log});
  const std::uint16_t port = testing::read_agent_port(*p);
  return {std::move(p), port};
}

// event_id -> the number of hooks the log line says it was sent to.
std::map<std::string, int> raised_events(const std::string& log) {
  std::map<std::string, int> out;
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"slo breached\"") == std::string::npos &&
        line.find("\"slo resolved\"") == std::string::npos)
      continue;
    auto field = [&](const std::string& name) {
      const auto at = line.find(" " + name + "=");
      if (at == std::string::npos) return std::string();
      const auto start = at + name.size() + 2;
      return line.substr(start, line.find(' ', start) - start);
    };
    const std::string id = field("event_id");
    const std::string hooks = field("hooks");
    REQUIRE_FALSE(id.empty());
    REQUIRE_FALSE(hooks.empty());
    out[id] = std::stoi(hooks);
  }
  return out;
}

std::size_t outbox_files(const std::string& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) n += e.path().extension() == ".json";
  return n;
}

}  // namespace

TEST_CASE("kill -9 at 50 random moments loses no event and keeps breached/resolved alternating per hook") {
  testing::test_target target({"--no-tls"});
  webhook_receiver receiver;
  const auto dir = temp_dir("chaos");
  const std::string hook = "http://127.0.0.1:" + std::to_string(receiver.port());
  write_text(dir + "/agent.yaml", "listen: 127.0.0.1:0\nstate_dir: " + dir +
                                      "/state\ntargets:\n"
                                      "  - name: api\n    url: " +
                                      target.http_url("/health") +
                                      "\n    interval: 100ms\n    timeout: 150ms\n"
                                      "    slo: { availability: 90%, window: 20s, burn_alerts: [ { long: 1s, "
                                      "short: 500ms, factor: 2 } ], min_requests: 3 }\n"
                                      "    on_breach:\n"
                                      "      - { webhook: '" +
                                      hook +
                                      "/a', cooldown: 0s, timeout: 300ms }\n"
                                      "      - { webhook: '" +
                                      hook + "/b', cooldown: 0s, timeout: 300ms }\n");
  const std::string log = dir + "/agent.log";

  // Faults run on their own clocks, unrelated to the kills: the target is unhealthy 1 s out of
  // every 2.5 s (held responses time out), the receiver cycles up -> down -> 503 every 2 s.
  std::atomic<bool> stop{false};
  std::thread flipper([&] {
    while (!stop) {
      http_get(target.http_url("/control/freeze?ms=1000"));
      for (int i = 0; i < 25 && !stop; ++i) std::this_thread::sleep_for(100ms);
    }
  });
  std::thread faults([&] {
    for (int phase = 0; !stop; ++phase) {
      if (phase % 3 == 1) receiver.go_down();
      if (phase % 3 == 2) {
        receiver.come_up();
        receiver.fail_for(2s, 503);
      }
      for (int i = 0; i < 20 && !stop; ++i) std::this_thread::sleep_for(100ms);
    }
  });

  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> moment_ms(50, 1200);
  for (int k = 0; k < kills; ++k) {
    auto agent = start_agent(dir + "/agent.yaml", log);
    std::this_thread::sleep_for(std::chrono::milliseconds(moment_ms(rng)));
    agent.process->signal(SIGKILL);
    REQUIRE(agent.process->wait(5s) == 128 + SIGKILL);
  }
  stop = true;
  flipper.join();
  faults.join();
  if (!receiver.is_up()) receiver.come_up();
  receiver.reset();
  std::this_thread::sleep_for(1100ms);  // the target's last freeze ends by itself

  // Last run: healthy target, healthy receiver; drained once the SLO is clear and the outbox empty.
  auto agent = start_agent(dir + "/agent.yaml", log);
  auto settled = [&] {
    const auto metrics = http_get("http://127.0.0.1:" + std::to_string(agent.port) + "/metrics");
    return metrics.find("watchpost_slo_breached{slo=\"availability\",target=\"api\"} 0") !=
               std::string::npos &&
           outbox_files(dir + "/state/outbox") == 0;
  };
  // Settled for 2 s in a row: a breach the restored windows still hold fires and resolves first.
  auto settled_since = std::chrono::steady_clock::now();
  REQUIRE(wait_until(
      [&] {
        if (!settled()) settled_since = std::chrono::steady_clock::now();
        return std::chrono::steady_clock::now() - settled_since >= 2s;
      },
      40s));
  agent.process->signal(SIGTERM);
  CHECK(agent.process->wait(10s) == 0);

  const auto raised = raised_events(log);
  const auto got = receiver.received();
  INFO("raised " << raised.size() << " events, receiver got " << got.size() << " requests");
  REQUIRE(raised.size() >= 10);  // the cycles really ran: no vacuous pass

  std::map<std::string, std::set<std::string>> hooks_of;     // event id -> paths it reached
  std::map<std::string, std::vector<std::string>> sequence;  // path -> ids in first-arrival order
  for (const auto& w : got) {
    const auto body = boost::json::parse(w.body).as_object();
    const std::string id(body.at("event_id").as_string());
    CHECK(w.event_id == id);  // every copy carries its id
    if (w.answered / 100 != 2) continue;
    if (hooks_of[id].insert(w.target).second) sequence[w.target].push_back(id);
  }
  for (const auto& [id, hooks] : raised) {
    INFO("raised event " << id);
    CHECK(static_cast<int>(hooks_of[id].size()) == hooks);
  }
  for (const auto& [path, ids] : sequence) {
    INFO("hook " << path);
    std::string open;  // "api:availability:<breach ms>:" of the breach awaiting its resolved
    for (const auto& id : ids) {
      INFO("event " << id);
      const bool resolved = id.ends_with(":resolved");
      const std::string breach = id.substr(0, id.rfind(':') + 1);
      if (!resolved) {
        CHECK(open.empty());
        open = breach;
      } else {
        CHECK(open == breach);
        open.clear();
      }
    }
    CHECK(open.empty());
  }
}
