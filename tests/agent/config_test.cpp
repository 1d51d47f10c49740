#include "watchpost/agent/config.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "watchpost/common/config_file.hpp"

using namespace watchpost;
using namespace watchpost::agent;

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
)", "agent.yaml");
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
  auto error_of = [](const std::string& text) {
    try {
      parse_config(text, "bad.yaml");
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    intervall: 5s\n").starts_with("bad.yaml:4:5:"));
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    interval: 5\n").find("bad.yaml:4:15") == 0);
  CHECK(error_of("targets:\n  - name: a\n    url: ftp://x/\n").starts_with("bad.yaml:3:10:"));
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n  - name: a\n    url: http://y/\n").find("duplicate") != std::string::npos);
  CHECK(error_of("targets:\n  - name: a\n    url: http://x/\n    slo: { availability: 99% }\n    on_breach:\n      - webhook: http://h/\n        secret: ${env:WATCHPOST_SURELY_UNSET}\n")
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
