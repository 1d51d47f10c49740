// Pushes to a real Prometheus Pushgateway (pushgateway_fixture.hpp) on loopback, read back
// from its /metrics: the SPEC names and values, one group per suite/target/shard, failures as
// values (the commands' --push-gateway: tests/cli/pushgateway_cli_test.cpp).
#include "watchpost/exporters/pushgateway.hpp"

#include <prometheus/counter.h>

#include <catch2/catch.hpp>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "pushgateway_fixture.hpp"

using namespace std::chrono_literals;
using namespace watchpost;
using agent_test::reserve_port;
using push_test::label_set;
using push_test::pushgateway;
using push_test::sample;
using push_test::with;

namespace {

probes::check_outcome outcome(std::string name, probes::failure_kind kind, nanoseconds total) {
  probes::check_outcome c;
  c.name = std::move(name);
  c.kind = kind;
  c.attempts = 1;
  c.duration = total;
  c.response.status = kind == probes::failure_kind::none ? 200 : 503;
  c.response.timings.connect = 200us;
  c.response.timings.ttfb = total / 2;
  c.response.timings.total = total;
  return c;
}

exporters::suite_run two_target_run(const std::string& suite_name) {
  probes::suite_result good;
  good.checks = {outcome("health", probes::failure_kind::none, 2ms),
                 outcome("home page", probes::failure_kind::none, 30ms)};
  good.checks[0].response.tls.present = true;
  good.checks[0].response.tls.cert_not_after =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'900'000'000));
  probes::suite_result bad;
  bad.checks = {outcome("health", probes::failure_kind::status, 4ms),
                outcome("token sk-live-123 ok", probes::failure_kind::connect, 0ms)};
  probes::check_outcome skipped;
  skipped.name = "read back";
  skipped.skipped = true;
  bad.checks.push_back(skipped);
  return {suite_name, "run-1", {{"https://good.example/", good}, {"http://10.0.0.2:8080/app", bad}}};
}

}  // namespace

TEST_CASE("a smoke run lands in the Pushgateway under the SPEC names, one group per target") {
  pushgateway gateway;
  probes::redactor redact;
  redact.add("sk-live-123");
  const auto pushed = exporters::push_suite_run(gateway.address(), two_target_run("post-deploy"), redact);
  INFO(pushed.error);
  REQUIRE(pushed.pushed);

  const std::string m = gateway.metrics();
  INFO(m);
  const label_set good{{"job", "watchpost_smoke"},
                       {"suite", "post-deploy"},
                       {"instance", "https://good.example/"},
                       {"target", "https://good.example/"}};
  const label_set bad{{"job", "watchpost_smoke"},
                      {"suite", "post-deploy"},
                      {"instance", "http://10.0.0.2:8080/app"},
                      {"target", "http://10.0.0.2:8080/app"}};
  CHECK(sample(m, "watchpost_probe_success", with(good, {{"check", "health"}})) == 1);
  CHECK(sample(m, "watchpost_probe_success", with(good, {{"check", "home page"}})) == 1);
  CHECK(sample(m, "watchpost_probe_success", with(bad, {{"check", "health"}})) == 0);
  CHECK(sample(m, "watchpost_probe_total", with(good, {{"check", "health"}, {"result", "ok"}})) == 1);
  CHECK(sample(m, "watchpost_probe_total", with(good, {{"check", "health"}, {"result", "status"}})) == 0);
  CHECK(sample(m, "watchpost_probe_total", with(bad, {{"check", "health"}, {"result", "status"}})) == 1);
  CHECK(sample(m, "watchpost_probe_total", with(bad, {{"check", "token *** ok"}, {"result", "connect"}})) ==
        1);
  CHECK_FALSE(
      sample(m, "watchpost_probe_success", with(bad, {{"check", "read back"}})));  // skipped: no probe ran
  CHECK(sample(m, "watchpost_probe_duration_seconds_count", with(good, {{"phase", "total"}})) == 2);
  CHECK(sample(m, "watchpost_probe_duration_seconds_sum", with(good, {{"phase", "total"}})) == Approx(0.032));
  CHECK(sample(m, "watchpost_probe_duration_seconds_bucket",
               with(good, {{"phase", "total"}, {"le", "0.005"}})) == 1);
  CHECK(sample(m, "watchpost_probe_duration_seconds_count", with(good, {{"phase", "resolve"}})) ==
        0);  // never happened
  CHECK(sample(m, "watchpost_tls_cert_expiry_timestamp_seconds", good) == 1.9e9);
  CHECK(m.find("sk-live-123") == std::string::npos);

  // A push the gateway refuses (the SPEC gauge pushed as a counter) comes back with its reason.
  auto wrong_type = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("watchpost_probe_success").Register(*wrong_type).Add({}).Increment();
  const auto refused =
      exporters::push_to_gateway(gateway.address(), "other", {{{{"instance", "x"}}, wrong_type}});
  CHECK_FALSE(refused.pushed);
  CHECK_THAT(refused.error, Catch::Contains("answered HTTP 400: pushed metrics are invalid or inconsistent"));
  CHECK(refused.error.find('\n') == std::string::npos);

  // Another suite is another group; pushing the first one again replaces only its own groups.
  REQUIRE(exporters::push_suite_run(gateway.address(), two_target_run("canary"), redact).pushed);
  auto rerun = two_target_run("post-deploy");
  rerun.targets.pop_back();
  rerun.targets[0].result->checks.pop_back();
  REQUIRE(exporters::push_suite_run(gateway.address(), rerun, redact).pushed);
  const std::string after = gateway.metrics();
  CHECK(sample(after, "watchpost_probe_success", with(good, {{"check", "health"}})) == 1);
  CHECK_FALSE(sample(after, "watchpost_probe_success", with(good, {{"check", "home page"}})));
  CHECK(sample(after, "watchpost_probe_success", with(bad, {{"check", "health"}})) ==
        0);  // its own group, untouched
  CHECK(sample(after, "watchpost_probe_success", with(good, {{"suite", "canary"}, {"check", "home page"}})) ==
        1);
}

TEST_CASE("a load run lands in the Pushgateway and shards do not overwrite each other") {
  pushgateway gateway;
  loadgen::load_result run;
  run.parameters.target = "http://127.0.0.1:8080/api?key=secret";
  run.parameters.model = "closed";
  run.parameters.shard_count = 2;
  loadgen::counters c;
  stats::histogram latency;
  for (int i = 1; i <= 100; ++i) {
    latency.record(i * 1'000'000);  // 1..100 ms
    ++c.requests;
    ++c.status_counts[i <= 95 ? 200 : 503];
  }
  c.add_error(probes::failure_kind::connect);
  c.add_error(probes::failure_kind::reset);
  c.add_error(probes::failure_kind::tls_verify);
  c.dropped = 7;
  c.in_flight_at_end = 3;
  c.reconnects = 4;
  run.add_interval(0, c, latency, {});
  run.elapsed_seconds = 2;
  const std::vector<loadgen::threshold_outcome> outcomes{{"p99<250ms", true, "p99=99ms", "whole run"},
                                                         {"error_rate<1%", false, "2.9%", "whole run"}};
  REQUIRE(exporters::push_load_run(gateway.address(), run, outcomes).pushed);
  run.parameters.shard_index = 1;
  REQUIRE(exporters::push_load_run(gateway.address(), run, {}).pushed);

  const std::string m = gateway.metrics();
  INFO(m);
  const label_set shard1{{"job", "watchpost_load"},
                         {"instance", "http://127.0.0.1:8080/api"},
                         {"shard", "1/2"},
                         {"target", "http://127.0.0.1:8080/api"}};
  CHECK(sample(m, "watchpost_load_requests_total", with(shard1, {{"result", "ok"}})) == 100);
  CHECK(sample(m, "watchpost_load_requests_total", with(shard1, {{"result", "connect"}})) == 2);
  CHECK(sample(m, "watchpost_load_requests_total", with(shard1, {{"result", "tls"}})) == 1);
  CHECK(sample(m, "watchpost_load_requests_total", with(shard1, {{"result", "timeout"}})) == 0);
  CHECK(sample(m, "watchpost_load_responses_total", with(shard1, {{"code", "503"}})) == 5);
  CHECK(sample(m, "watchpost_load_dropped_total", with(shard1, {})) == 7);
  CHECK(sample(m, "watchpost_load_in_flight_at_end", with(shard1, {})) == 3);
  CHECK(sample(m, "watchpost_load_reconnects_total", with(shard1, {})) == 4);
  CHECK(sample(m, "watchpost_load_duration_seconds_count", with(shard1, {})) == 100);
  CHECK(sample(m, "watchpost_load_duration_seconds_sum", with(shard1, {})) == Approx(5.05));
  CHECK(sample(m, "watchpost_load_duration_seconds_bucket", with(shard1, {{"le", "0.05"}})) == 50);
  CHECK(sample(m, "watchpost_load_duration_seconds_bucket", with(shard1, {{"le", "+Inf"}})) == 100);
  CHECK(sample(m, "watchpost_load_duration_quantile_seconds", with(shard1, {{"quantile", "0.99"}})) ==
        Approx(0.099).epsilon(0.01));
  CHECK(sample(m, "watchpost_load_requests_per_second", with(shard1, {})) == Approx(51.5));
  CHECK(sample(m, "watchpost_load_threshold_passed", with(shard1, {{"threshold", "p99<250ms"}})) == 1);
  CHECK(sample(m, "watchpost_load_threshold_passed", with(shard1, {{"threshold", "error_rate<1%"}})) == 0);
  CHECK(sample(m, "watchpost_load_passed", with(shard1, {})) == 0);
  CHECK(sample(m, "watchpost_load_passed", {{"shard", "2/2"}}) == 1);
  CHECK(m.find("secret") == std::string::npos);
}

TEST_CASE("a gateway behind a path prefix is pushed to under that prefix") {
  pushgateway gateway("/pg");
  const auto pushed =
      exporters::push_suite_run(std::get<probes::url>(exporters::parse_gateway_url(gateway.url() + "/")),
                                two_target_run("prefixed"), {});
  INFO(pushed.error);
  REQUIRE(pushed.pushed);
  CHECK(sample(gateway.metrics(), "watchpost_probe_success", {{"suite", "prefixed"}, {"check", "health"}}));
}

TEST_CASE("push failures are values with a one-line reason, bounded in time") {
  // Nobody listening.
  const std::uint16_t closed = reserve_port();
  auto address = [](const std::string& url) {
    return std::get<probes::url>(exporters::parse_gateway_url(url));
  };
  auto r = exporters::push_suite_run(address("http://127.0.0.1:" + std::to_string(closed)),
                                     two_target_run("s"), {});
  CHECK_FALSE(r.pushed);
  CHECK_THAT(r.error, Catch::Contains("Pushgateway http://127.0.0.1:" + std::to_string(closed)) &&
                          Catch::Contains("onnect"));
  CHECK(r.error.find('\n') == std::string::npos);

  // Accepts connections, never answers: the deadline ends the wait.
  testing::test_target frozen({"--freeze-at", "0s", "--freeze-for", "20s"});
  const auto start = std::chrono::steady_clock::now();
  r = exporters::push_suite_run(address(frozen.http_url("")), two_target_run("s"), {}, {300ms, {}});
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK_FALSE(r.pushed);
  CHECK_THAT(r.error, Catch::EndsWith("did not answer within 300ms"));

  // Not a gateway: a 4xx answer.
  testing::test_target plain;
  r = exporters::push_suite_run(address(plain.http_url("/status")), two_target_run("s"), {});
  CHECK_FALSE(r.pushed);
  CHECK_THAT(r.error, Catch::Contains("answered HTTP 4"));

  // Queries are refused up front.
  CHECK(
      std::holds_alternative<probes::url_error>(exporters::parse_gateway_url("http://127.0.0.1:9091/?a=b")));
  CHECK(std::holds_alternative<probes::url_error>(exporters::parse_gateway_url("ftp://127.0.0.1:9091")));
}
