// Sharded agents as real processes: three replicas over one target list, each told its shard a
// different way (the flag, the config key, auto/N from the pod name), probe every target exactly
// once; a reload reassigns; bad values stop the start with one line.
#include <signal.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "agent_fixture.hpp"
#include "watchpost/agent/shard.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {

constexpr int target_count = 30;

std::string target_name(int i) { return "t" + std::to_string(100 + i); }

// Each target a distinct URL on the test target, probed every 200 ms.
std::string target_list(const testing::test_target& target) {
  std::string out = "targets:\n";
  for (int i = 0; i < target_count; ++i)
    out += "  - name: " + target_name(i) +
           "\n    url: " + target.http_url("/status/200?target=" + target_name(i)) +
           "\n    interval: 200ms\n    timeout: 1s\n";
  return out;
}

// Probes per target as the agent's /api/status lists them.
std::map<std::string, std::uint64_t> probes_by_target(const running_agent& agent) {
  std::map<std::string, std::uint64_t> out;
  const auto status = boost::json::parse(agent.get("/api/status"));
  for (const auto& t : status.at("targets").as_array())
    out[std::string(t.at("name").as_string())] = t.at("probes").to_number<std::uint64_t>();
  return out;
}

std::set<std::string> names_of_shard(unsigned index, unsigned count) {
  std::set<std::string> out;
  for (int i = 0; i < target_count; ++i)
    if (agent::shard_of(target_name(i), count) == index) out.insert(target_name(i));
  return out;
}

bool all_probed(const running_agent& agent, std::uint64_t at_least) {
  for (const auto& [name, probes] : probes_by_target(agent))
    if (probes < at_least) return false;
  return true;
}

std::string shard_series(unsigned index, unsigned count) {
  return "watchpost_agent_shard{count=\"" + std::to_string(count) + "\",index=\"" + std::to_string(index) +
         "\"} 1";
}

}  // namespace

TEST_CASE("three sharded agents over one config probe every target exactly once, and a reload reassigns") {
  testing::test_target target({"--no-tls"});
  const auto dir = temp_dir("shard");
  // One target list; a state_dir per replica, as a StatefulSet gives each pod its own volume.
  const auto write_config = [&](int replica, const std::string& shard_key) {
    const std::string path = dir + "/agent-" + std::to_string(replica) + ".yaml";
    write_text(path, "listen: 127.0.0.1:0\nstate_dir: " + dir + "/state-" + std::to_string(replica) + "\n" +
                         shard_key + target_list(target));
    return path;
  };
  const std::string config_1 = write_config(1, "shard: 1/3\n");
  ::setenv("POD_NAME", "watchpost-agent-2", 1);
  running_agent agent_0(write_config(0, ""), {"--shard", "0/3"});
  running_agent agent_1(config_1);
  running_agent agent_2(write_config(2, "shard: 0/3\n"), {"--shard", "auto/3"});  // the flag wins
  ::unsetenv("POD_NAME");
  const std::array<const running_agent*, 3> agents{&agent_0, &agent_1, &agent_2};

  REQUIRE(wait_until(
      [&] { return all_probed(agent_0, 3) && all_probed(agent_1, 3) && all_probed(agent_2, 3); }, 5s));
  std::map<std::string, int> owners;  // target -> how many agents probe it
  for (unsigned i = 0; i < agents.size(); ++i) {
    INFO("agent " << i);
    const auto probed = probes_by_target(*agents[i]);
    std::set<std::string> own;
    for (const auto& [name, probes] : probed) {
      CHECK(probes >= 3);
      own.insert(name);
      ++owners[name];
    }
    CHECK(own == names_of_shard(i, 3));
    CHECK_FALSE(own.empty());
    const std::string metrics = agents[i]->get("/metrics");
    CHECK(metrics.find(shard_series(i, 3)) != std::string::npos);
    for (int t = 0; t < target_count; ++t)
      CHECK((metrics.find("target=\"" + target_name(t) + "\"") != std::string::npos) ==
            own.contains(target_name(t)));
  }
  REQUIRE(owners.size() == target_count);  // the union is the whole list
  for (const auto& [name, count] : owners) {
    INFO(name);
    CHECK(count == 1);
  }

  // Halving to two shards: the reload reapplies the assignment, metrics and status follow.
  write_text(config_1,
             "listen: 127.0.0.1:0\nstate_dir: " + dir + "/state-1\nshard: 1/2\n" + target_list(target));
  agent_1.process().signal(SIGHUP);
  REQUIRE(
      wait_until([&] { return agent_1.get("/metrics").find(shard_series(1, 2)) != std::string::npos; }, 5s));
  const auto metrics = agent_1.get("/metrics");
  CHECK(metrics.find(shard_series(1, 3)) == std::string::npos);
  std::set<std::string> own;
  for (const auto& [name, probes] : probes_by_target(agent_1)) own.insert(name);
  CHECK(own == names_of_shard(1, 2));
}

TEST_CASE("bad shard values stop the agent with one line and exit 2") {
  const auto dir = temp_dir("shard-errors");
  const std::string config = dir + "/agent.yaml";
  write_text(config, "listen: 127.0.0.1:0\nstate_dir: " + dir +
                         "/state\ntargets:\n  - name: api\n    url: http://127.0.0.1:1/\n");
  auto run = testing::run_watchpost({"agent", config, "--shard", "3/3"});
  CHECK(run.exit_code == 2);
  CHECK(
      run.err ==
      "watchpost agent: --shard '3/3': the shard index must be below the count (shards are numbered 0..2)\n");
  run = testing::run_watchpost({"agent", config, "--shard", "auto/3"},
                               {{"POD_NAME", "web"}, {"HOSTNAME", "ci"}});
  CHECK(run.exit_code == 2);
  CHECK(run.err ==
        "watchpost agent: --shard auto/3: neither $POD_NAME 'web' nor $HOSTNAME 'ci' ends in -<ordinal> "
        "(a StatefulSet pod name)\n");
  write_text(config, "shard: 1/0\ntargets: []\n");
  run = testing::run_watchpost({"agent", config});
  CHECK(run.exit_code == 2);
  CHECK(run.err == "watchpost agent: " + config + ":1:8: shard '1/0': the shard count must be 1..1000\n");
}

TEST_CASE("an agent whose shard holds no target starts, warns and says so") {
  const auto dir = temp_dir("shard-empty");
  const std::string config = dir + "/agent.yaml";
  // "api" is in shard 1 of 2 (shard_test pins the hash).
  write_text(config, "listen: 127.0.0.1:0\nstate_dir: " + dir +
                         "/state\ntargets:\n  - name: api\n    url: http://127.0.0.1:1/\n");
  REQUIRE(agent::shard_of("api", 2) == 1);
  // The agent runs until stopped: run_watchpost ends it at the timeout, with what it logged.
  const auto run = testing::run_watchpost({"agent", config, "--shard", "0/2"}, {}, 1000ms);
  CHECK(run.out.starts_with("READY listen=127.0.0.1:"));
  CHECK(run.err.find(" warn \"shard 0/2: 0 of 1 targets\"") != std::string::npos);
  const auto other = testing::run_watchpost({"agent", config, "--shard", "1/2"}, {}, 1000ms);
  CHECK(other.err.find(" info \"shard 1/2: 1 of 1 targets\"") != std::string::npos);
}

TEST_CASE("check-config --shard lists the targets of that shard") {
  const auto dir = temp_dir("shard-check");
  const std::string config = dir + "/agent.yaml";
  std::string text = "targets:\n";
  for (int i = 0; i < target_count; ++i)
    text += "  - name: " + target_name(i) + "\n    url: http://127.0.0.1:1/\n";
  write_text(config, text);
  for (unsigned index = 0; index < 3; ++index) {
    const auto run =
        testing::run_watchpost({"check-config", config, "--shard", std::to_string(index) + "/3"});
    CHECK(run.exit_code == 0);
    const auto own = names_of_shard(index, 3);
    std::string expected = config + ": ok (agent config: 30 targets, listen 127.0.0.1:9464)\nshard " +
                           std::to_string(index) + "/3: " + std::to_string(own.size()) + " of 30 targets\n";
    for (int i = 0; i < target_count; ++i)
      if (own.contains(target_name(i))) expected += "  " + target_name(i) + "\n";
    CHECK(run.out == expected);
  }
  const std::string suite = dir + "/suite.yaml";
  write_text(suite, "checks:\n  - name: home\n    url: http://127.0.0.1:1/\n");
  const auto run = testing::run_watchpost({"check-config", suite, "--shard", "0/3"});
  CHECK(run.exit_code == 2);
  CHECK(run.err == "watchpost check-config: --shard lists the targets of an agent config; " + suite +
                       " is a smoke suite\n");
}
