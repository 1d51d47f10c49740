#include "watchpost/agent/config.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "agent_fixture.hpp"
#include "watchpost/common/config_file.hpp"

using namespace watchpost;
using namespace watchpost::agent;

namespace {
std::string error_of(const std::string& text) {
  try {
    parse_config(text, "bad.yaml");
  } catch (const config_error& e) {
    return std::string(e.what());
  }
  return std::string("no error");
}
}  // namespace

TEST_CASE("a full agent config parses with defaults and env secrets") {
  ::setenv("WATCHPOST_TEST_SECRET", "s3cret", 1);
  const auto c = parse_config(R"(
listen: 127.0.0.1:9999
state_dir: /tmp/x
labels: { region: eu }
targets:
  - name: send-prod
    url: https://send.example.com/health
    interval: 10s
    expect: { status: [200, 2xx], latency: "< 500ms" }
    slo:
      availability: 99.9%
      latency: { p95: 500ms }
      window: 30d
      burn_alerts: [ { long: 1h, short: 5m, factor: 14.4 }, { long: 6h, short: 30m, factor: 6 } ]
      min_requests: 20
    on_breach:
      - webhook: https://deployer.internal/rollback
        secret: ${env:WATCHPOST_TEST_SECRET}
        cooldown: 15m
)",
                              "agent.yaml");
  CHECK(c.listen_port == 9999);
  REQUIRE(c.targets.size() == 1);
  const auto& t = c.targets[0];
  CHECK(t.jitter == std::chrono::seconds(1));
  CHECK(*t.slo.availability == Approx(0.999));
  CHECK(t.slo.burn_alerts.size() == 2);
  CHECK(t.on_breach.at(0).secret == "s3cret");
  CHECK(c.labels.at("region") == "eu");
  CHECK(c.batch_window == std::chrono::milliseconds(50));
  CHECK(c.listen_max_connections == 256);
  CHECK(window_label(std::chrono::hours(24 * 30)) == "30d");
}

TEST_CASE("config errors name file, line and column") {
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    intervall: 5s\n")
            .starts_with("bad.yaml:4:5:"));
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    interval: 5\n").find("bad.yaml:4:15") == 0);
  CHECK(error_of("targets:\n  - name: a\n    url: ftp://x/\n").starts_with("bad.yaml:3:10:"));
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n  - name: a\n    url: http://y/\n")
            .find("duplicate") != std::string::npos);
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    slo: { availability: 99% }\n    "
                 "on_breach:\n      - webhook: http://h/\n        secret: ${env:WATCHPOST_SURELY_UNSET}\n")
            .find("WATCHPOST_SURELY_UNSET' is not set") != std::string::npos);
  CHECK(error_of("listen: nowhere\ntargets: []\n").starts_with("bad.yaml:1:9:"));
  CHECK(error_of("batch_window: 2s\ntargets: []\n").starts_with("bad.yaml:1:15: batch_window must be 0..1s"));
  CHECK(error_of("listen_max_connections: 0\ntargets: []\n")
            .starts_with("bad.yaml:1:25: listen_max_connections must be 1..1000000"));
  CHECK(error_of("listen_basic_auth: { user: p, password: '${env:WATCHPOST_SURELY_UNSET}' }\ntargets: []\n")
            .starts_with("bad.yaml:1:41: environment variable 'WATCHPOST_SURELY_UNSET' is not set"));
  CHECK(error_of("listen_tls: { cert: /nonexistent.crt, key: /nonexistent.key }\ntargets: []\n")
            .starts_with("bad.yaml:1:21: cannot open listen_tls.cert '/nonexistent.crt'"));
  CHECK(error_of("listen_tls: { cert: /etc/hostname }\ntargets: []\n").find("key") != std::string::npos);
}

// "30d" used to take a path of its own that accepted 0d and overflowed on huge day counts.
TEST_CASE("day durations are validated like every other duration") {
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    interval: 0d\n")
            .starts_with("bad.yaml:4:15: interval must be greater than zero"));
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    slo: { availability: 99%, window: 0d }\n")
            .starts_with("bad.yaml:4:39: slo.window must be greater than zero"));
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    slo: { availability: 99%, window: "
                 "9999999999999d }\n")
            .starts_with("bad.yaml:4:39: slo.window must be a duration like"));
  const auto c = parse_config(
      "targets:\n  - name: a\n    url: http://x/\n    interval: 1d\n"
      "    slo: { availability: 99%, window: 1.5d, burn_alerts: [ { long: 1d, short: 1h, factor: 2 } ] }\n",
      "ok.yaml");
  CHECK(c.targets.at(0).interval == std::chrono::hours(24));
  CHECK(c.targets.at(0).slo.window == std::chrono::hours(36));
  CHECK(c.targets.at(0).slo.burn_alerts.at(0).long_window == std::chrono::hours(24));
}

TEST_CASE("a suite target rejects method and headers and its timeout bounds every check") {
  const auto dir = agent_test::temp_dir("suite-target-config");
  agent_test::write_text(dir + "/smoke.yaml",
                         "name: s\nbase_url: http://127.0.0.1:1\ndefaults: { timeout: 10s }\nchecks:\n"
                         "  - { name: long, request: GET /a, timeout: 30s }\n"
                         "  - { name: short, request: GET /b, timeout: 1s }\n"
                         "  - { name: plain, request: GET /c }\n");
  const std::string head = "targets:\n  - name: a\n    suite: " + dir + "/smoke.yaml\n";
  CHECK(error_of(head + "    method: POST\n").starts_with("bad.yaml:4:13: method: is for single probes"));
  CHECK(error_of(head + "    headers: { X-Env: prod }\n")
            .starts_with("bad.yaml:4:14: headers: is for single probes"));
  const auto bounded = parse_config(head + "    timeout: 2s\n", "ok.yaml").targets.at(0);
  REQUIRE(bounded.suite);
  CHECK(bounded.suite->timeout == std::chrono::seconds(2));
  CHECK(bounded.suite->checks.at(0).timeout == std::chrono::seconds(2));
  CHECK(bounded.suite->checks.at(1).timeout == std::chrono::seconds(1));
  CHECK_FALSE(bounded.suite->checks.at(2).timeout.has_value());  // takes the suite's, now 2s
  const auto unbounded = parse_config(head, "ok.yaml").targets.at(0);
  CHECK(unbounded.suite->timeout == std::chrono::seconds(10));
  CHECK(unbounded.suite->checks.at(0).timeout == std::chrono::seconds(30));
}

TEST_CASE("labels of the agent and of a target merge into validated metric labels") {
  const auto c = parse_config(
      "labels: { region: eu, team: core }\ntargets:\n"
      "  - { name: a, url: 'http://x/', labels: { team: payments, tier: '1' } }\n"
      "  - { name: b, url: 'http://y/' }\n",
      "ok.yaml");
  CHECK(c.targets.at(0).labels ==
        std::map<std::string, std::string>{{"region", "eu"}, {"team", "payments"}, {"tier", "1"}});
  CHECK(c.targets.at(1).labels == std::map<std::string, std::string>{{"region", "eu"}, {"team", "core"}});
  CHECK(c.labels.at("team") == "core");
  const std::string target = "targets:\n  - name: a\n    url: http://x/\n    labels: ";
  CHECK(error_of(target + "{ target: x }\n").starts_with("bad.yaml:4:15: label name 'target' is reserved"));
  for (const char* name : {"check", "result", "phase", "slo", "window", "le", "job", "instance"})
    CHECK(error_of(target + "{ " + name + ": x }\n").find("is reserved") != std::string::npos);
  CHECK(error_of(target + "{ 1st: x }\n").starts_with("bad.yaml:4:15: label name '1st' must match"));
  CHECK(error_of(target + "{ __meta: x }\n").find("must match") != std::string::npos);
  CHECK(error_of(target + "{ a-b: x }\n").find("must match") != std::string::npos);
  CHECK(error_of(target + "{ env: '' }\n").starts_with("bad.yaml:4:20: label value of 'env' must be 1..128"));
  CHECK(error_of(target + "{ env: \"a\\nb\" }\n").find("control character") != std::string::npos);
  CHECK(error_of("labels: [ a ]\ntargets: []\n").starts_with("bad.yaml:1:9: labels must be a mapping"));
  std::string eleven = "{ ";
  for (int i = 0; i < 11; ++i) eleven += "l" + std::to_string(i) + ": v, ";
  eleven += "}";
  CHECK(error_of(target + eleven + "\n").find("has 11 labels; at most 10") != std::string::npos);
  std::string six_a = "labels: { ", six_t = "{ ";
  for (int i = 0; i < 6; ++i)
    six_a += "a" + std::to_string(i) + ": v, ", six_t += "t" + std::to_string(i) + ": v, ";
  CHECK(error_of(six_a + "}\n" + target + six_t + "}\n")
            .find("bad.yaml:5:13: the agent's and the target's labels add up to 12") == 0);
}

// A 365d 'long' beside a 5m 'short' sized a 420,482-slot ring (~10 MB) for every such target.
TEST_CASE("burn alerts spanning too wide a range are refused at load time") {
  const std::string head =
      "targets:\n  - name: a\n    url: http://x/\n    slo:\n      availability: 99%\n"
      "      window: 365d\n      burn_alerts:\n";
  CHECK(error_of(head + "        - { long: 365d, short: 5m, factor: 2 }\n")
            .starts_with(
                "bad.yaml:8:9: slo.burn_alerts span too wide a range: their shortest 'short' and longest "
                "'long' need 420482 slices per target (at most 4096)"));
  // Across alerts too: the ring serves them all.
  CHECK(error_of(
            head +
            "        - { long: 1h, short: 5m, factor: 14 }\n        - { long: 30d, short: 6h, factor: 1 }\n")
            .find("span too wide a range") != std::string::npos);
  // The SRE workbook's page and ticket alerts fit.
  const auto c = parse_config(head +
                                  "        - { long: 1h, short: 5m, factor: 14.4 }\n"
                                  "        - { long: 3d, short: 6h, factor: 1 }\n",
                              "ok.yaml");
  CHECK(burn_ring_for(c.targets.at(0).slo.burn_alerts).slots == 3458);
}

TEST_CASE("phase_histograms and duration_buckets apply globally, a target's own win, and are validated") {
  const auto c = parse_config(
      "phase_histograms: none\nduration_buckets: [0.001, 0.1, 2]\ntargets:\n"
      "  - { name: a, url: http://x/ }\n"
      "  - { name: b, url: http://x/, phase_histograms: all }\n"
      "  - { name: c, url: http://x/, duration_buckets: [1] }\n",
      "ok.yaml");
  CHECK(c.metrics.histograms == phase_histograms::none);
  CHECK(c.targets.at(0).metrics.histograms == phase_histograms::none);
  CHECK(c.targets.at(0).metrics.duration_buckets == std::vector<double>{0.001, 0.1, 2});
  CHECK(c.targets.at(1).metrics.histograms == phase_histograms::all);
  CHECK(c.targets.at(1).metrics.duration_buckets == std::vector<double>{0.001, 0.1, 2});
  CHECK(c.targets.at(2).metrics.histograms == phase_histograms::none);
  CHECK(c.targets.at(2).metrics.duration_buckets == std::vector<double>{1});
  const auto defaults = parse_config("targets:\n  - { name: a, url: http://x/ }\n", "ok.yaml");
  CHECK(defaults.targets.at(0).metrics.histograms == phase_histograms::total);
  CHECK(defaults.targets.at(0).metrics.duration_buckets == default_duration_buckets);

  CHECK(error_of("phase_histograms: some\ntargets: []\n")
            .starts_with("bad.yaml:1:19: phase_histograms must be none, total or all"));
  CHECK(error_of("targets:\n  - { name: a, url: http://x/, duration_buckets: [0.1, 0.1] }\n")
            .starts_with("bad.yaml:2:56: duration_buckets must be strictly increasing"));
  CHECK(error_of("duration_buckets: [0.5, 0.1]\ntargets: []\n")
            .starts_with("bad.yaml:1:25: duration_buckets must be strictly increasing"));
  CHECK(error_of("duration_buckets: [0, 1]\ntargets: []\n")
            .starts_with("bad.yaml:1:20: duration bucket must be a positive number of seconds"));
  CHECK(error_of("duration_buckets: [1, .inf]\ntargets: []\n")
            .starts_with("bad.yaml:1:23: duration bucket must be a number"));
  CHECK(error_of("duration_buckets: [1, x]\ntargets: []\n")
            .starts_with("bad.yaml:1:23: duration bucket must be a number"));
  CHECK(error_of("duration_buckets: []\ntargets: []\n")
            .starts_with("bad.yaml:1:19: duration_buckets needs 1..30 bounds"));
  std::string many = "duration_buckets: [1";
  for (int i = 2; i <= 31; ++i) many += ", " + std::to_string(i);
  CHECK(
      error_of(many + "]\ntargets: []\n").starts_with("bad.yaml:1:19: duration_buckets needs 1..30 bounds"));
}
