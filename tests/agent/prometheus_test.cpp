// A real Prometheus scrapes the agent: the spec metrics are queryable with PromQL, and
// promtool accepts the exposition. Without the Debian `prometheus` package the tests fail: CI
// installs it (scripts/install-deps.sh --test).
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>

#include "agent_fixture.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {
std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The first sample's value of an instant query, or nullopt while there is none (or while
// Prometheus is still starting and does not answer yet).
std::optional<double> query(std::uint16_t port, const std::string& promql) {
  const auto body =
      try_http_get("http://127.0.0.1:" + std::to_string(port) + "/api/v1/query?query=" + url_encode(promql));
  if (!body) return std::nullopt;
  boost::json::error_code ec;
  const auto v = boost::json::parse(*body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* data = v.as_object().if_contains("data");
  if (!data) return std::nullopt;
  const auto& result = data->at("result").as_array();
  if (result.empty()) return std::nullopt;
  const double value =
      std::strtod(std::string(result[0].at("value").as_array()[1].as_string()).c_str(), nullptr);
  if (std::isnan(value)) return std::nullopt;
  return value;
}

std::string agent_config(const std::string& dir, const testing::test_target& target) {
  return "listen: 127.0.0.1:0\nstate_dir: " + dir +
         "/state\ntargets:\n"
         "  - name: health\n    url: " +
         target.http_url("/health") +
         "\n    interval: 200ms\n"
         "  - name: slow\n    url: " +
         target.http_url("/delay/100") + "\n    interval: 200ms\n";
}
}  // namespace

TEST_CASE("promtool check metrics accepts the agent's /metrics") {
  require_installed("/usr/bin/promtool", "prometheus");
  testing::test_target target;
  const auto dir = temp_dir("promtool");
  write_text(dir + "/agent.yaml", agent_config(dir, target));
  running_agent agent(dir + "/agent.yaml");
  REQUIRE(wait_until(
      [&] { return agent.get("/metrics").find("result=\"ok\",target=\"slow\"} 0") == std::string::npos; },
      5s));
  write_text(dir + "/metrics.txt", agent.get("/metrics"));
  CHECK(std::system(("/usr/bin/promtool check metrics < " + dir + "/metrics.txt").c_str()) == 0);
}

TEST_CASE("a real Prometheus scrapes the agent and answers PromQL over the spec metrics") {
  require_installed("/usr/bin/prometheus", "prometheus");
  testing::test_target target;
  const auto dir = temp_dir("prometheus");
  write_text(dir + "/agent.yaml", agent_config(dir, target));
  running_agent agent(dir + "/agent.yaml");
  const std::uint16_t prom_port = reserve_port();
  write_text(dir + "/prometheus.yml",
             "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
             "scrape_configs:\n  - job_name: watchpost\n    static_configs:\n"
             "      - targets: ['127.0.0.1:" +
                 std::to_string(agent.port()) + "']\n");
  testing::child_process prometheus(
      "/usr/bin/prometheus",
      {"--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/tsdb",
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"});
  CHECK(
      wait_until([&] { return query(prom_port, "watchpost_probe_success{target=\"health\"}") == 1.0; }, 40s));
  std::optional<double> p50;
  CHECK(wait_until(
      [&] {
        p50 = query(prom_port,
                    "histogram_quantile(0.5, "
                    "rate(watchpost_probe_duration_seconds_bucket{target=\"slow\",phase=\"total\"}[5s]))");
        return p50.has_value();
      },
      30s));
  REQUIRE(p50.has_value());
  CHECK(*p50 >= 0.1);
}

namespace {
// The line of `metric` whose label block contains every one of `parts`, or "" when none does.
std::string sample_line(const std::string& metrics, const std::string& metric,
                        std::initializer_list<std::string> parts) {
  std::size_t pos = 0;
  while ((pos = metrics.find("\n" + metric + "{", pos)) != std::string::npos) {
    const std::size_t end = metrics.find('\n', pos + 1);
    const std::string line = metrics.substr(pos + 1, end - pos - 1);
    pos = end;
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) return line;
  }
  return "";
}
}  // namespace

TEST_CASE("labels, the error budget and a suite target's timeout show in /metrics, which promtool accepts") {
  require_installed("/usr/bin/promtool", "prometheus");
  testing::test_target target;
  const auto dir = temp_dir("labels");
  write_text(dir + "/slow.yaml",
             "name: slow\nbase_url: " + target.http_url("") +
                 "\ndefaults: { timeout: 10s }\nchecks:\n  - { name: wait, request: GET /delay/3000 }\n");
  write_text(dir + "/agent.yaml",
             "listen: 127.0.0.1:0\nstate_dir: " + dir +
                 "/state\nlabels: { region: eu, team: core }\n"
                 "targets:\n"
                 "  - name: health\n    url: " +
                 target.http_url("/health") +
                 "\n    interval: 100ms\n"
                 "    labels: { team: payments }\n"
                 "    slo: { availability: 99%, window: 1h, min_requests: 3 }\n"
                 "  - name: suite\n    suite: slow.yaml\n    interval: 500ms\n    timeout: 300ms\n");
  running_agent agent(dir + "/agent.yaml");
  std::string metrics;
  const bool ready = wait_until(
      [&] {
        metrics = agent.get("/metrics");
        const auto timeouts =
            sample_line(metrics, "watchpost_probe_total", {"check=\"wait\"", "result=\"timeout\""});
        return !sample_line(metrics, "watchpost_slo_error_budget_remaining", {}).empty() &&
               !timeouts.empty() && !timeouts.ends_with(" 0");
      },
      10s);
  INFO(metrics);
  REQUIRE(ready);
  CHECK(sample_line(metrics, "watchpost_probe_success", {"target=\"health\""}) ==
        "watchpost_probe_success{check=\"probe\",region=\"eu\",target=\"health\",team=\"payments\"} 1");
  CHECK(sample_line(metrics, "watchpost_slo_error_budget_remaining", {}) ==
        "watchpost_slo_error_budget_remaining{region=\"eu\",slo=\"availability\",target=\"health\",team="
        "\"payments\"} 1");
  for (const char* metric : {"watchpost_probe_total", "watchpost_probe_duration_seconds_bucket",
                             "watchpost_uptime_ratio", "watchpost_slo_burn_rate", "watchpost_slo_breached"}) {
    INFO(metric);
    CHECK_FALSE(
        sample_line(metrics, metric, {"region=\"eu\"", "target=\"health\"", "team=\"payments\""}).empty());
    CHECK(sample_line(metrics, metric, {"target=\"health\"", "team=\"core\""}).empty());
  }
  CHECK_FALSE(
      sample_line(metrics, "watchpost_probe_success", {"target=\"suite\"", "team=\"core\"", "region=\"eu\""})
          .empty());
  // The suite's 10s default would leave the 3 s delay a success; the target's 300ms bounds it.
  CHECK(sample_line(metrics, "watchpost_probe_total", {"check=\"wait\"", "result=\"ok\""}).ends_with(" 0"));
  write_text(dir + "/metrics.txt", metrics);
  CHECK(std::system(("/usr/bin/promtool check metrics < " + dir + "/metrics.txt").c_str()) == 0);
}
