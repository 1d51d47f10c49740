// The number of /metrics series each target costs, per metric setting (issue 11: at most 25 per
// target by default). Counted from a real scrape, so a series added by default fails here.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sstream>

#include "agent_fixture.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {

// Sample lines per value of the `target` label.
std::map<std::string, int> series_per_target(const std::string& metrics) {
  std::map<std::string, int> count;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) continue;
    const auto at = line.find("target=\"");
    if (at == std::string::npos) continue;
    const auto end = line.find('"', at + 8);
    ++count[line.substr(at + 8, end - at - 8)];
  }
  return count;
}

// The phase label values of one target's duration series.
std::set<std::string> phases_of(const std::string& metrics, const std::string& target) {
  std::set<std::string> phases;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("watchpost_probe_duration_seconds_count{") ||
        line.find("target=\"" + target + "\"") == std::string::npos)
      continue;
    const auto at = line.find("phase=\"") + 7;
    phases.insert(line.substr(at, line.find('"', at) - at));
  }
  return phases;
}

}  // namespace

TEST_CASE("series per target: 18 by default, fewer or more by phase_histograms and duration_buckets") {
  testing::test_target target;
  const auto dir = temp_dir("series-count");
  const auto probe = [&](const std::string& name, const std::string& path, const std::string& extra) {
    return "  - { name: " + name + ", url: '" + target.http_url(path) + "', interval: 100ms" + extra + " }\n";
  };
  write_text(dir + "/agent.yaml", "listen: 127.0.0.1:0\nstate_dir: " + dir + "/state\ntargets:\n" +
                                      probe("default", "/health", "") + probe("failing", "/status/500", "") +
                                      probe("none", "/health", ", phase_histograms: none") +
                                      probe("short", "/health", ", duration_buckets: [0.1, 1]") +
                                      probe("all", "/health", ", phase_histograms: all") +
                                      probe("slo", "/health",
                                            ", slo: { availability: 99%, window: 1h, min_requests: 1 }, "
                                            "on_breach: [ { webhook: 'http://127.0.0.1:1/hook' } ]"));
  running_agent agent(dir + "/agent.yaml");
  std::string metrics;
  // Until every lazily added series had its chance: a failure counted, every phase of a plain-http
  // probe by IP address observed, the error budget over min_requests.
  const bool settled = wait_until(
      [&] {
        metrics = agent.get("/metrics");
        return metrics.find("result=\"status\",target=\"failing\"} ") != std::string::npos &&
               phases_of(metrics, "all").size() == 4 &&
               metrics.find("watchpost_slo_error_budget_remaining{slo=\"availability\",target=\"slo\"}") !=
                   std::string::npos;
      },
      10s);
  INFO(metrics);
  REQUIRE(settled);
  const auto count = series_per_target(metrics);
  // success, probe_total{result="ok"}, uptime 1h and 24h: 4; a histogram is buckets + 3 (+Inf, sum, count).
  CHECK(count.at("default") == 4 + 14);
  CHECK(count.at("failing") == 4 + 14 + 1);  // probe_total{result="status"} once it happened
  CHECK(count.at("none") == 4);
  CHECK(count.at("short") == 4 + 5);
  // Plain http by IP address: connect, ttfb, transfer and total; never resolve or tls.
  CHECK(phases_of(metrics, "all") == std::set<std::string>{"connect", "total", "transfer", "ttfb"});
  CHECK(count.at("all") == 4 + 4 * 14);
  // One objective with the one default burn alert that fits a 1h window: breached, burn rate over
  // 1h and 5m, error budget; four webhook delivery counters for the on_breach hook.
  CHECK(count.at("slo") == 4 + 14 + 4 + 4);
  CHECK(metrics.find("watchpost_agent_probes_skipped_total{") == std::string::npos);
  CHECK(metrics.find("watchpost_webhook_deliveries_total{result=\"delivered\",target=\"default\"}") ==
        std::string::npos);
}
