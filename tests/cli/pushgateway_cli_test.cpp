// `smoke` and `load` with --push-gateway against a real Pushgateway: what lands there, and an
// outage that warns in one line without changing the exit code.
#include <algorithm>
#include <catch2/catch.hpp>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "pushgateway_fixture.hpp"

using namespace watchpost;
using agent_test::reserve_port;
using push_test::label_set;
using push_test::pushgateway;
using push_test::sample;
using push_test::with;

TEST_CASE("smoke --push-gateway pushes per target, a gateway outage warns without changing the exit code") {
  pushgateway gateway;
  testing::test_target target;
  const auto dir = agent_test::temp_dir("push");
  agent_test::write_text(dir + "/suite.yaml",
                         "name: pushed\nchecks:\n"
                         "  - { name: health, request: GET /health }\n"
                         "  - { name: broken, request: GET /status/500 }\n");
  auto r = testing::run_watchpost({"smoke", dir + "/suite.yaml", "--base-url", target.http_url(""),
                                   "--base-url", target.http_url("/"), "--push-gateway", gateway.url()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.empty());
  const std::string m = gateway.metrics();
  for (const auto& t : {target.http_url(""), target.http_url("/")}) {
    CHECK(sample(m, "watchpost_probe_success", {{"suite", "pushed"}, {"instance", t}, {"check", "health"}}) ==
          1);
    CHECK(sample(m, "watchpost_probe_total", {{"instance", t}, {"check", "broken"}, {"result", "status"}}) ==
          1);
  }

  r = testing::run_watchpost({"smoke", dir + "/suite.yaml", "--base-url", target.http_url(""),
                              "--push-gateway", "http://127.0.0.1:" + std::to_string(reserve_port())});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::StartsWith("watchpost smoke: metrics not pushed: Pushgateway http://127.0.0.1:"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  r = testing::run_watchpost(
      {"smoke", dir + "/suite.yaml", "--base-url", target.http_url(""), "--push-gateway", "gateway:9091"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--push-gateway"));
}

TEST_CASE("load PLAN.yaml --push-gateway pushes the run, an outage warns without changing the exit code") {
  pushgateway gateway;
  testing::test_target target;
  const auto dir = agent_test::temp_dir("push-load");
  agent_test::write_text(dir + "/plan.yaml",
                         "url: " + target.http_url("/health") +
                             "\nconnections: 2\ncount: 50\nthresholds: [ \"error_rate<1%\" ]\n");
  auto r = testing::run_watchpost({"load", dir + "/plan.yaml", "--push-gateway", gateway.url(), "-q"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  const std::string m = gateway.metrics();
  const label_set run{{"job", "watchpost_load"}, {"target", target.http_url("/health")}};
  CHECK(sample(m, "watchpost_load_requests_total", with(run, {{"result", "ok"}})) == 50);
  CHECK(sample(m, "watchpost_load_passed", run) == 1);

  r = testing::run_watchpost({"load", dir + "/plan.yaml", "-q", "--push-gateway",
                              "http://127.0.0.1:" + std::to_string(reserve_port())});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::StartsWith("watchpost load: metrics not pushed: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  r = testing::run_watchpost({"load", dir + "/plan.yaml", "--plan", dir + "/plan.yaml"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("give the plan once"));
}
