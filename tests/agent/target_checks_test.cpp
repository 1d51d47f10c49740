// A single-request agent target's `expect:` is the suites' check language: parsed and judged by
// probes/, with the same failure kinds and the same masking of secrets.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <string_view>

#include "agent_fixture.hpp"
#include "watchpost/agent/config.hpp"
#include "watchpost/common/config_file.hpp"
#include "watchpost/probes/http_client.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {

agent::target_config one_target(const std::string& target_yaml) {
  const auto c = agent::parse_config("targets:\n  - name: t\n" + target_yaml, "agent.yaml");
  REQUIRE(c.targets.size() == 1);
  return c.targets[0];
}

std::string error_of(const std::string& target_yaml) {
  try {
    agent::parse_config("targets:\n  - name: t\n" + target_yaml, "bad.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("an agent target's expect: accepts every assertion a suite check does") {
  const auto t = one_target(R"(    url: https://example.com/health
    expect:
      status: [200, 3xx]
      headers:
        Content-Type: { matches: "application/json.*" }
        X-Frame-Options: { absent: true }
        Cache-Control: no-store
      json: { "$.status": ok, "$.checks.db": { exists: true }, "$.uptime_s": ">= 0" }
      body: { contains: status, not_contains: error, matches: "ok+", max_bytes: 4096 }
      latency: < 500ms
      tls: { min_version: "1.2", cert_days_left: "> 14" }
      redirect: { to_https: true }
)");
  const probes::expectation& e = t.expect;
  REQUIRE(e.status);
  CHECK(e.status->describe() == "[200, 3xx]");
  CHECK(e.headers.size() == 3);
  CHECK(e.json.size() == 3);
  CHECK(e.body.size() == 4);
  REQUIRE(e.latency_ms);
  CHECK(e.latency_ms->value == 500);
  REQUIRE(e.tls);
  CHECK(*e.tls->min_version == "1.2");
  CHECK(e.redirect_to_https);

  // The shape agent configs had before keeps its meaning.
  const auto old = one_target(
      "    url: http://x/\n    expect: { status: 200, body: { contains: ok }, latency: \"< 1s\" }\n");
  REQUIRE(old.expect.status);
  CHECK(old.expect.status->describe() == "200");
  CHECK(old.expect.body.size() == 1);
  CHECK(old.expect.latency_ms->value == 1000);
}

TEST_CASE("agent expect: errors name file, line and column") {
  CHECK_THAT(error_of("    url: http://x/\n    expect: { statuss: 200 }\n"),
             Catch::StartsWith("bad.yaml:4:15:"));
  CHECK_THAT(error_of("    url: http://x/\n    expect:\n      json: { \"status\": ok }\n"),
             Catch::StartsWith("bad.yaml:5:15:"));
  CHECK_THAT(error_of("    url: http://x/\n    expect:\n      headers: { X-A: { matches: \"(?=a)\" } }\n"),
             Catch::StartsWith("bad.yaml:5:34:") && Catch::Contains("RE2 syntax"));
  CHECK_THAT(error_of("    url: http://x/\n    expect: { body: { contains: \"${token}\" } }\n"),
             Catch::StartsWith("bad.yaml:4:33:") && Catch::Contains("unknown variable '${token}'"));
  CHECK_THAT(error_of("    url: http://x/\n    expect: { tls: { min_version: \"1.3\" } }\n"),
             Catch::StartsWith("bad.yaml:4:20:") && Catch::Contains("needs an https:// url"));
  CHECK_THAT(error_of("    url: http://x/\n    expect: { status: 700 }\n"), Catch::Contains("100..599"));
}

TEST_CASE("the agent's judge masks secret header values and expectations from the environment") {
  ::setenv("WATCHPOST_TEST_AGENT_TOKEN", "tok-5f3a9c", 1);
  ::setenv("WATCHPOST_TEST_AGENT_CANARY", "canary-77e1", 1);
  testing::test_target target({"--no-tls"});
  // /headers answers the request's headers as JSON, so the response carries both secrets.
  const auto t = one_target("    url: " + target.http_url("/headers") + R"(
    headers:
      Authorization: "Bearer ${env:WATCHPOST_TEST_AGENT_TOKEN}"
      X-Canary: "${env:WATCHPOST_TEST_AGENT_CANARY}"
    expect:
      json: { "$.authorization": "Bearer wrong" }
      body: { not_contains: "${env:WATCHPOST_TEST_AGENT_CANARY}" }
)");
  const probes::result res = probes::fetch(t.request, probes::client_options{});
  REQUIRE(res.ok());
  REQUIRE(res.body.find("tok-5f3a9c") != std::string::npos);
  const probes::check_outcome o = probes::judge(t.name, t.expect, res, {}, *t.secrets);
  CHECK(o.kind == probes::failure_kind::assertion);
  REQUIRE(o.failures.size() == 2);
  CHECK_THAT(o.failures[0], Catch::StartsWith("body: expected not to contain \"***\", found it at byte "));
  CHECK(o.failures[1] == "json $.authorization: expected \"Bearer wrong\", got \"***\"");
  for (const auto& f : o.failures) {
    CHECK(f.find("tok-5f3a9c") == std::string::npos);
    CHECK(f.find("canary-77e1") == std::string::npos);
  }
}

TEST_CASE("a real agent fails a wrong header or json expectation as assertion and passes a right one") {
  testing::test_target target({"--no-tls"});
  const auto dir = temp_dir("target-checks");
  const std::string health = target.http_url("/health");
  write_text(dir + "/agent.yaml",
             "listen: 127.0.0.1:0\nstate_dir: " + dir +
                 "/state\ntargets:\n"
                 "  - name: right\n    url: " +
                 health +
                 "\n    interval: 100ms\n"
                 "    expect:\n      status: 200\n      headers: { Content-Type: { matches: "
                 "\"^application/json\" } }\n"
                 "      json: { \"$.status\": ok, \"$.checks.db\": ok, \"$.uptime_s\": \">= 0\" }\n"
                 "  - name: wrong-header\n    url: " +
                 health +
                 "\n    interval: 100ms\n"
                 "    expect: { status: 200, headers: { Content-Type: { matches: \"^text/html\" } } }\n"
                 "  - name: wrong-json\n    url: " +
                 health +
                 "\n    interval: 100ms\n"
                 "    expect: { status: 200, json: { \"$.status\": degraded } }\n"
                 "  - name: wrong-status\n    url: " +
                 target.http_url("/status/503") +
                 "\n    interval: 100ms\n"
                 "    expect: { json: { \"$.status\": ok } }\n");
  running_agent agent(dir + "/agent.yaml");
  // watchpost_probe_total of one target and result, 0 when the series is not there.
  const auto total = [](const std::string& metrics, const std::string& target_name,
                        const std::string& result) {
    const std::string series =
        "watchpost_probe_total{check=\"probe\",result=\"" + result + "\",target=\"" + target_name + "\"} ";
    const auto at = metrics.find(series);
    return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + series.size()));
  };
  // Three probes of each target at least, so a verdict is not one lucky (or unlucky) answer.
  const std::pair<const char*, const char*> expected[] = {{"right", "ok"},
                                                          {"wrong-header", "assertion"},
                                                          {"wrong-json", "assertion"},
                                                          {"wrong-status", "status"}};
  REQUIRE(wait_until(
      [&] {
        const std::string m = agent.get("/metrics");
        for (const auto& [name, result] : expected)
          if (total(m, name, result) < 3) return false;
        return true;
      },
      10s));
  const std::string metrics = agent.get("/metrics");
  for (const auto& [name, result] : expected) {
    INFO(name);
    for (const char* other : {"ok", "assertion", "status", "connect", "timeout", "protocol"})
      if (std::string_view(other) != result) CHECK(total(metrics, name, other) == 0);
  }

  std::map<std::string, std::string> last_failure;
  const auto status = boost::json::parse(agent.get("/api/status"));
  for (const auto& t : status.at("targets").as_array())
    last_failure[std::string(t.at("name").as_string())] = std::string(t.at("last_failure").as_string());
  CHECK(last_failure.at("right").empty());
  CHECK(last_failure.at("wrong-header") == "assertion");
  CHECK(last_failure.at("wrong-json") == "assertion");
  CHECK(last_failure.at("wrong-status") == "status");
  agent.process().signal(SIGTERM);
  CHECK(agent.process().wait(10s) == 0);
}
