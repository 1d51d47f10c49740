// The suite engine against the real loopback test target: assertions, captures, skips,
// parallel runs, redaction and load-time errors.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "watchpost/probes/preset.hpp"
#include "watchpost/probes/suite.hpp"

using namespace watchpost;
using namespace watchpost::probes;
using watchpost::testing::test_target;
using namespace std::chrono_literals;

namespace {

test_target& target() {
  static test_target t;
  return t;
}

suite from_yaml(const std::string& text, const std::map<std::string, std::string>& vars = {}) {
  return parse_suite(config_file::parse(text, "inline.yaml"), vars);
}

suite_result run(const suite& s, const std::string& base) {
  auto results = run_suite_on_targets(s, {base}, client_options{});
  REQUIRE(results.size() == 1);
  REQUIRE(results[0].has_value());
  return *results[0];
}

// The single failure message of a one-check suite run against the plain port.
std::string only_failure(const std::string& check_yaml) {
  const auto r = run(from_yaml("checks:\n  - " + check_yaml + "\n"), target().http_url(""));
  REQUIRE(r.checks.size() == 1);
  INFO(check_yaml);
  REQUIRE_FALSE(r.checks[0].passed());
  REQUIRE(r.checks[0].failures.size() == 1);
  return r.checks[0].failures[0];
}

std::string load_error(const std::string& text, const std::map<std::string, std::string>& vars = {}) {
  try {
    from_yaml(text, vars);
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("no config_error for:\n" << text);
  return {};
}

}  // namespace

TEST_CASE("a suite of passing checks passes against the test target") {
  const auto s = from_yaml(R"(
name: passing
checks:
  - name: health
    request: GET /health
    expect:
      status: 200
      headers: { Content-Type: { equals: application/json }, X-Nope: { absent: true }, Server: { contains: test-target } }
      body: { contains: '"status"', not_contains: error, matches: "version.:.1\\.2", max_bytes: 1000 }
      json: { "$.status": ok, "$.checks.db": { exists: true }, "$.uptime_s": ">= 0", "$.version": { type: string } }
      latency: < 2s
  - request: GET /api/info
    expect: { status: 2xx, json: { "$.items[1].id": 2, "$.items[0].tags[1]": b, "$.enabled": true, "$.nothing": null, "$.ratio": "< 0.5" } }
  - request: GET /status/403
    expect: { status: [401, 403] }
)");
  const auto r = run(s, target().http_url(""));
  for (const auto& c : r.checks) {
    INFO(c.name << ": " << (c.failures.empty() ? "" : c.failures.front()));
    CHECK(c.passed());
  }
  CHECK(r.passed());
  CHECK(r.checks[1].name == "GET /api/info");
}

TEST_CASE("each assertion kind reports expected vs actual") {
  CHECK(only_failure("request: GET /status/503\n    expect: { status: 200 }") ==
        "status: expected 200, got 503");
  CHECK(only_failure("request: GET /status/503\n    expect: { status: [2xx, 404] }") ==
        "status: expected [404, 2xx], got 503");
  CHECK(only_failure("request: GET /health\n    expect: { headers: { X-Missing: { present: true } } }") ==
        "header X-Missing: expected present, got absent");
  CHECK(only_failure("request: GET /health\n    expect: { headers: { Server: { absent: true } } }") ==
        "header Server: expected absent, got \"watchpost-test-target\"");
  CHECK(only_failure("request: GET /health\n    expect: { headers: { Content-Type: text/html } }") ==
        "header Content-Type: expected \"text/html\", got \"application/json\"");
  CHECK(only_failure(
            "request: GET /health\n    expect: { headers: { Content-Type: { matches: '^text/' } } }") ==
        "header Content-Type: expected to match /^text//, got \"application/json\"");
  CHECK(only_failure("request: GET /health\n    expect: { headers: { Server: { contains: nginx } } }") ==
        "header Server: expected to contain \"nginx\", got \"watchpost-test-target\"");
  CHECK_THAT(only_failure("request: GET /status/200\n    expect: { body: { contains: hello } }"),
             Catch::Equals("body: expected to contain \"hello\", got \"status 200\" (10 bytes)"));
  CHECK(only_failure("request: GET /status/200\n    expect: { body: { not_contains: status } }") ==
        "body: expected not to contain \"status\", found it at byte 0");
  CHECK(only_failure("request: GET /status/200\n    expect: { body: { matches: '^[0-9]+$' } }") ==
        "body: expected to match /^[0-9]+$/, got \"status 200\" (10 bytes)");
  CHECK(only_failure("request: GET /status/200\n    expect: { body: { max_bytes: 4 } }") ==
        "body: expected at most 4 bytes, got 10 bytes");
  CHECK(only_failure("request: GET /health\n    expect: { json: { \"$.status\": degraded } }") ==
        "json $.status: expected \"degraded\", got \"ok\"");
  CHECK(only_failure("request: GET /api/info\n    expect: { json: { \"$.count\": 3 } }") ==
        "json $.count: expected \"3\", got 2");
  CHECK(only_failure("request: GET /api/info\n    expect: { json: { \"$.count\": \"> 3\" } }") ==
        "json $.count: expected > 3, got 2");
  CHECK(only_failure("request: GET /api/info\n    expect: { json: { \"$.items[5]\": { exists: true } } }") ==
        "json $.items[5]: expected to exist, got nothing (path not found)");
  CHECK(only_failure("request: GET /api/info\n    expect: { json: { \"$.items\": { type: object } } }") ==
        "json $.items: expected type object, got array "
        "[{\"id\":1,\"tags\":[\"a\",\"b\"]},{\"id\":2,\"tags\":[]}]");
  CHECK(only_failure("request: GET /status/200\n    expect: { json: { \"$.a\": 1 } }") ==
        "json $.a: expected a JSON body, got \"status 200\"");
  CHECK_THAT(only_failure("request: GET /delay/30\n    expect: { latency: < 5ms }"),
             Catch::Matches(
                 "latency: expected < 5ms, got [3-9][0-9](\\.[0-9]+)? ?ms"));  // /delay/30 on a busy machine
  CHECK(only_failure("request: GET /health\n    expect: { tls: { min_version: \"1.2\" } }") ==
        "tls: expected a TLS connection, got plain HTTP");
  CHECK(only_failure("request: GET /health\n    expect: { redirect: { to_https: true } }") ==
        "redirect: expected 3xx to https://..., got 200 without Location");
  CHECK_THAT(only_failure("request: GET /stall\n    timeout: 200ms"),
             Catch::StartsWith("request: expected a response, got timeout"));
}

TEST_CASE("tls and redirect assertions read the real connection") {
  client_options options;
  options.tls.ca_file = target().cert_file();
  auto s = from_yaml(R"(
checks:
  - request: GET /health
    expect: { tls: { min_version: TLSv1.2, cert_days_left: "> 14" } }
  - request: GET /health
    expect: { tls: { cert_days_left: "> 100" } }
  - request: GET /redirect-https
    expect: { redirect: { to_https: true } }
)");
  s.checks[2].request.path = text_template::literal(target().http_url("/redirect-https"));
  const auto results = run_suite_on_targets(s, {target().https_url("")}, options);
  const auto& r = *results.at(0);
  CHECK(r.checks[0].passed());
  REQUIRE(r.checks[1].failures.size() == 1);
  CHECK_THAT(r.checks[1].failures[0], Catch::StartsWith("tls cert_days_left: expected > 100, got "));
  CHECK(r.checks[2].passed());
}

TEST_CASE("tls min_version fails against a TLS 1.2-only server (openssl s_server)") {
  const auto dir = agent_test::temp_dir("tls12");
  agent_test::make_test_certificate(dir);
  const auto port = std::to_string(agent_test::reserve_port());
  testing::child_process server("/usr/bin/openssl",
                                {"s_server", "-tls1_2", "-www", "-accept", "127.0.0.1:" + port, "-cert",
                                 dir + "/cert.pem", "-key", dir + "/key.pem"});
  std::string line;
  for (int i = 0; i < 3 && line != "ACCEPT"; ++i) line = server.read_line(5s);
  REQUIRE(line == "ACCEPT");
  client_options options;
  options.tls.ca_file = dir + "/cert.pem";
  auto s = from_yaml(R"(
checks:
  - { request: GET /, expect: { tls: { min_version: "1.2" } } }
  - { request: GET /, expect: { tls: { min_version: "1.3" } } }
)");
  const auto r = run_suite_on_targets(s, {"https://127.0.0.1:" + port}, options).at(0).value();
  CHECK(r.checks[0].passed());
  REQUIRE(r.checks[1].failures.size() == 1);
  CHECK(r.checks[1].failures[0] == "tls version: expected >= TLSv1.3, got TLSv1.2");
}

TEST_CASE("captures flow into later checks, dependents of a failed capture are skipped") {
  const auto s = from_yaml(R"(
checks:
  - name: upload
    request: { method: POST, path: /api/files, body: "canary-${RUN_ID}" }
    capture:
      file_id: "$.id"
      size: { regex: '"size":([0-9]+)' }
      server: { header: Server }
    expect: { status: 201 }
  - name: metadata
    request: GET /api/files/${file_id}
    expect: { json: { "$.id": "${file_id}", "$.size": "${size}" }, body: { contains: "${file_id}" } }
  - name: raw is not plaintext
    request: GET /api/files/${file_id}/raw
    expect: { status: 200, body: { not_contains: "canary-${RUN_ID}" } }
  - name: lost
    request: GET /status/500
    capture: { nothing: "$.x" }
  - name: uses lost
    request: GET /api/files/${nothing}
)",
                           {{"RUN_ID", "run-7"}});
  const auto r = run(s, target().http_url(""));
  CHECK(r.checks[0].passed());
  CHECK(r.checks[1].passed());
  CHECK(r.checks[1].request_line.size() == std::string("GET /api/files/").size() + 16);
  CHECK(r.checks[2].passed());
  CHECK_FALSE(r.checks[3].passed());
  CHECK(r.checks[4].skipped);
  CHECK(r.checks[4].skip_reason == "needs capture 'nothing' from a check that failed");
  CHECK(r.failed_count() == 1);
  CHECK(r.skipped_count() == 1);
}

TEST_CASE("a capture missing from a passing response fails the check") {
  const auto r = run(from_yaml("checks:\n  - request: GET /health\n    capture: { id: \"$.id\" }\n"),
                     target().http_url(""));
  REQUIRE(r.checks[0].failures.size() == 1);
  CHECK(r.checks[0].failures[0] == "capture id: expected $.id in the response, got nothing");
  CHECK(r.checks[0].kind == failure_kind::assertion);
}

TEST_CASE("retries repeat a failing check with the interval between attempts") {
  const auto r =
      run(from_yaml("checks:\n  - request: GET /status/503\n    retries: 2\n    retry_interval: 50ms\n"),
          target().http_url(""));
  CHECK(r.checks[0].attempts == 3);
  CHECK(r.checks[0].duration >= std::chrono::milliseconds(100));
  CHECK(r.checks[0].kind == failure_kind::status);
}

TEST_CASE("parallel suites run independent checks concurrently and keep dependencies ordered") {
  std::string yaml = "parallel: true\nchecks:\n";
  for (int i = 0; i < 5; ++i) yaml += "  - request: GET /delay/200\n";
  yaml += "  - request: { method: POST, path: /api/files, body: x }\n    capture: { id: \"$.id\" }\n";
  yaml += "  - request: GET /api/files/${id}\n";
  const auto r = run(from_yaml(yaml), target().http_url(""));
  CHECK(r.passed());
  CHECK(r.checks.size() == 7);
  CHECK(r.duration < std::chrono::milliseconds(800));  // sequentially it would take >= 1s
}

TEST_CASE("secrets from the environment are registered with the redactor") {
  ::setenv("WATCHPOST_TEST_SECRET", "s3cr3t-value", 1);
  const auto s = from_yaml(R"(
checks:
  - request:
      method: GET
      path: /headers
      headers:
        Authorization: "Bearer ${env:WATCHPOST_TEST_SECRET}"
        X-Custom: { value: hidden-too, secret: true }
        Cookie: session=abc123
)");
  CHECK(s.secrets->apply("a s3cr3t-value b hidden-too c session=abc123") == "a *** b *** c ***");
  CHECK(s.secrets->apply("Bearer s3cr3t-value") == "***");
}

TEST_CASE("redactor masks longest secrets first and ignores empty ones") {
  redactor r;
  r.add("");
  r.add("abc");
  r.add("abcdef");
  CHECK(r.apply("xabcdefx abc") == "x***x ***");
  CHECK(r.apply("") == "");
}

TEST_CASE("load errors name file:line:col and what was expected") {
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    expect: { status: 200\n"),
             Catch::StartsWith("inline.yaml:"));
  CHECK(load_error("checks:\n  - request: GET /\n    bogus: 1\n") ==
        "inline.yaml:3:5: unknown key 'bogus' in check (expected one of: name, request, expect, retries, "
        "retry_interval, timeout, http_version, capture)");
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    expect: { status: abc }\n"),
             Catch::StartsWith("inline.yaml:3:23: status must be an integer"));
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    expect: { json: { \"$.a[\": 1 } }\n"),
             Catch::StartsWith("inline.yaml:3:23: invalid JSONPath '$.a['"));
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    timeout: 5 seconds\n"),
             Catch::StartsWith("inline.yaml:3:14: timeout must be a duration"));
  CHECK_THAT(load_error("checks:\n  - request: GET /x/${nope}\n"),
             Catch::StartsWith("inline.yaml:2:14: request: unknown variable '${nope}'"));
  CHECK_THAT(
      load_error(
          "checks:\n  - request: GET /a/${later}\n  - request: GET /\n    capture: { later: \"$.a\" }\n"),
      Catch::Contains("unknown variable '${later}'"));
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    expect: { latency: fast }\n"),
             Catch::StartsWith("inline.yaml:3:24: latency must be a bound"));
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    expect: { body: { matches: \"(\" } }\n"),
             Catch::StartsWith("inline.yaml:3:32: body.matches: invalid regular expression"));
  CHECK_THAT(load_error("checks: []\n"), Catch::Contains("at least one check"));
  CHECK_THAT(load_error("checks:\n  - request: get /\n"), Catch::Contains("upper-case"));
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    retries: [1]\n"),
             Catch::Contains("retries must be a string"));
  CHECK_THAT(load_error("checks:\n  - request: GET /\n    expect: { headers: { Authorization: "
                        "\"${env:WATCHPOST_UNSET_VAR}\" } }\n"),
             Catch::Contains("environment variable 'WATCHPOST_UNSET_VAR' is not set"));
}

TEST_CASE("JSONPath subset parses names, quoted names and indexes") {
  std::string error;
  auto p = parse_jsonpath("$.a['b c'][2].d", error);
  REQUIRE(p);
  CHECK(p->steps.size() == 4);
  const auto v = evaluate_jsonpath(*p, R"({"a":{"b c":[0,1,{"d":"x"}]}})");
  CHECK(v.type == json_type::string);
  CHECK(v.string_value == "x");
  for (auto bad : {"", "a.b", "$.", "$[x]", "$[1", "$..a", "$.a*"}) {
    INFO(bad);
    CHECK_FALSE(parse_jsonpath(bad, error));
  }
}

TEST_CASE("the deploy preset is an ordinary suite with configurable, skippable parts") {
  deploy_preset_options o;
  o.skip = {"cors", "hsts"};
  o.admin_paths = {"/admin", "/internal"};
  const suite s = deploy_preset("https://example.com", o);
  CHECK(s.checks.size() == 6);
  CHECK(s.checks[2].name == "admin: /internal refuses requests without credentials");
  CHECK(std::get<std::string>(s.checks[3].request.path.parts[0]) == "http://example.com/");
  o.skip = {"bogus"};
  CHECK_THROWS_AS(deploy_preset("https://example.com", o), usage_error);
}

TEST_CASE("credential headers built from captures and captured cookies are redacted") {
  const auto s = from_yaml(R"(
checks:
  - request: { method: POST, path: /api/files, body: x }
    capture: { session: "$.id", marked: { json: "$.id", secret: true } }
  - request:
      method: GET
      path: /headers
      headers: { Cookie: "sid=${session}" }
)");
  const auto r = run(s, target().http_url(""));
  REQUIRE(r.passed());
  const std::string id = r.checks[1].response.body.substr(r.checks[1].response.body.find("sid=") + 4, 16);
  CHECK(s.secrets->apply("cookie sid=" + id) == "cookie ***");
  CHECK(s.secrets->apply(id) == "***");
}
