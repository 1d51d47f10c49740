// The agent's dns: block: validated like the rest of the config, and one worker's resolver
// keeps probing a healthy target while another target's DNS queries are dropped.
#include <catch2/catch.hpp>
#include <csignal>
#include <regex>

#include "agent_fixture.hpp"
#include "dns_server.hpp"
#include "watchpost/agent/config.hpp"
#include "watchpost/common/config_file.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {

std::string error_of(const std::string& text) {
  try {
    agent::parse_config(text, "dns.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

// The value of one watchpost_probe_total series in a scrape, 0 when absent.
double probe_total(const std::string& metrics, const std::string& target, const std::string& result) {
  const std::regex series("\nwatchpost_probe_total\\{check=\"probe\",result=\"" + result + "\",target=\"" +
                          target + "\"\\} ([0-9.e+]+)");
  std::smatch m;
  return std::regex_search(metrics, m, series) ? std::stod(m[1]) : 0.0;
}

}  // namespace

TEST_CASE("agent dns: servers and cache_ttl parse, with the 30s cache by default") {
  const std::string targets = "targets:\n  - { name: a, url: 'http://a.test/' }\n";
  auto c = agent::parse_config("dns: { servers: ['127.0.0.1:5353', '[::1]:53'], cache_ttl: 5s }\n" + targets,
                               "dns.yaml");
  CHECK(c.dns.servers == std::vector<std::string>{"127.0.0.1:5353", "[::1]:53"});
  CHECK(c.dns.cache_ttl == 5s);
  c = agent::parse_config(targets, "dns.yaml");
  CHECK(c.dns.servers.empty());
  CHECK(c.dns.cache_ttl == 30s);
  CHECK(agent::parse_config("dns: { cache_ttl: 0s }\n" + targets, "dns.yaml").dns.cache_ttl == 0s);
}

TEST_CASE("agent dns: errors name file, line and column") {
  const std::string targets = "targets: []\n";
  CHECK_THAT(error_of("dns: { servers: [127.0.0.1:53, ns.example] }\n" + targets),
             Catch::StartsWith("dns.yaml:1:32: DNS server 'ns.example' must be IP[:PORT]"));
  CHECK_THAT(error_of("dns:\n  servers: ['127.0.0.1:70000']\n" + targets),
             Catch::StartsWith("dns.yaml:2:13: DNS server '127.0.0.1:70000': port must be 1..65535"));
  CHECK_THAT(error_of("dns: { cache_ttl: 2h }\n" + targets),
             Catch::StartsWith("dns.yaml:1:19: dns.cache_ttl must be 0..1h"));
  CHECK_THAT(error_of("dns: { server: [127.0.0.1] }\n" + targets), Catch::StartsWith("dns.yaml:1:8:"));
}

TEST_CASE("a dropped DNS name does not hold up the other targets of its worker") {
  testing::test_target target({"--no-tls"});
  testing::dns_server dns({"ok.test"}, {"slow.test"});
  const auto dir = temp_dir("dns-agent");
  write_text(
      dir + "/agent.yaml",
      "listen: 127.0.0.1:0\nstate_dir: " + dir +
          "/state\nthreads: 1\nbatch_window: 0s\n"
          "dns: { servers: ['" +
          dns.address() +
          "'], cache_ttl: 30s }\ntargets:\n"
          "  - { name: slow, url: 'http://slow.test:9/health', interval: 1s, jitter: 0s, timeout: 1s }\n"
          "  - { name: ok, url: 'http://ok.test:" +
          std::to_string(target.http_port()) + "/health', interval: 1s, jitter: 0s, timeout: 1s }\n");
  running_agent agent(dir + "/agent.yaml");
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(5500ms);
  const std::string metrics = agent.get("/metrics");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  INFO(metrics);
  // One probe per second each: ok.test from the cache after its first lookup, slow.test ending
  // at its 1s timeout every time (with a run skipped while the previous one is still waiting).
  CHECK(probe_total(metrics, "ok", "ok") >= 4);
  CHECK(probe_total(metrics, "ok", "ok") <= std::chrono::duration<double>(elapsed).count() + 1);
  CHECK(probe_total(metrics, "slow", "dns") >= 2);
  CHECK(probe_total(metrics, "slow", "ok") == 0);
  CHECK(dns.queries("ok.test") <= 2);  // A and AAAA once, then the cache
  CHECK(dns.queries("slow.test") >= 4);
  agent.process().signal(SIGTERM);
  CHECK(agent.process().wait(10s) == 0);
}
