// `watchpost smoke` and `watchpost check-config` end to end: the real binary against the
// real test target, its reports read back by independent parsers.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "watchpost/probes/jsonpath.hpp"

using namespace std::chrono_literals;
using watchpost::testing::run_watchpost;
using watchpost::testing::test_target;
namespace fs = std::filesystem;

namespace {

test_target& target() {
  static test_target t;
  return t;
}

fs::path scratch_dir() {
  static const fs::path dir = [] {
    auto d = fs::temp_directory_path() / ("watchpost-smoke-test-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string write_file(const std::string& name, const std::string& text) {
  const auto path = scratch_dir() / name;
  std::ofstream(path) << text;
  return path.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A JSON value read back with simdjson (an independent parser from the writer's Boost.JSON).
watchpost::probes::json_lookup json_at(const std::string& document, const std::string& path) {
  std::string error;
  auto p = watchpost::probes::parse_jsonpath(path, error);
  REQUIRE(p);
  auto v = watchpost::probes::evaluate_jsonpath(*p, document);
  REQUIRE(v.document_valid);
  return v;
}

bool xml_well_formed(const std::string& path) {
  const std::string cmd = "python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' '" +
                          path + "' 2>/dev/null || xmllint --noout '" + path + "'";
  return std::system(cmd.c_str()) == 0;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

const char* const ten_checks = R"(name: ten checks
checks:
  - { request: GET /health, expect: { status: 200, json: { "$.status": ok } } }
  - { request: GET /, expect: { body: { contains: "<html" } } }
  - { request: GET /api/info, expect: { json: { "$.count": "> 1" } } }
  - { request: GET /status/404, expect: { status: 404 } }
  - { request: GET /admin, expect: { status: [401, 403] } }
  - { request: GET /headers, expect: { json: { "$.host": { exists: true } } } }
  - request: { method: POST, path: /api/files, body: canary }
    capture: { id: "$.id" }
    expect: { status: 201 }
  - { request: "GET /api/files/${id}", expect: { json: { "$.size": 6 } } }
  - { request: "GET /api/files/${id}/raw", expect: { body: { not_contains: canary } } }
  - { request: GET /stats, expect: { latency: < 1s } }
)";

}  // namespace

TEST_CASE("smoke: a passing suite exits 0 with one line per check") {
  const auto suite = write_file("ten.yaml", ten_checks);
  auto r = run_watchpost({"smoke", suite, "--base-url", target().http_url("")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(count(r.out, "\u2713 ") == 10);
  CHECK_THAT(r.out, Catch::Contains("10 passed, 0 failed, 0 skipped"));
}

TEST_CASE("smoke: the example post-deploy suite passes against the test target") {
  auto r = run_watchpost({"smoke", watchpost::testing::source_dir() + "/examples/post-deploy.yaml",
                          "--base-url", target().http_url(""), "--var", "RUN_ID=ci-1"},
                         {{"TOKEN", "test-token"}});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("smoke: a 10-check suite completes in under 50 ms") {
  // Wall time is the acceptance figure, measured by bench/smoke/bench_smoke.sh; on a busy
  // machine it measures the neighbours. So the process's own CPU time is always bounded, and
  // the wall time whenever the machine has a core to spare.
  const auto suite = write_file("ten.yaml", ten_checks);
  auto cpu_time = [] {
    rusage usage{};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    return std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           std::chrono::microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  };
  std::chrono::nanoseconds best_wall = std::chrono::hours(1), best_cpu = best_wall;
  for (int i = 0; i < 10 && best_wall >= 50ms; ++i) {
    const auto cpu_before = cpu_time();
    auto r = run_watchpost({"smoke", suite, "--base-url", target().http_url("")});
    REQUIRE(r.exit_code == 0);
    best_cpu = std::min<std::chrono::nanoseconds>(best_cpu, cpu_time() - cpu_before);
    best_wall = std::min(best_wall, r.wall);
  }
#if defined(WATCHPOST_SANITIZED)
  // ASan+UBSan builds run the same suite for their checks; their instrumentation costs several
  // times the budget, so the bounds apply to optimised builds only.
  WARN("timing bounds not checked in a sanitizer build: best cpu " << best_cpu.count() / 1'000'000 << " ms");
  return;
#endif
  CHECK(best_cpu < 50ms);
  double load = 0;
  ::getloadavg(&load, 1);
  if (load < std::thread::hardware_concurrency()) {
    CHECK(best_wall < 50ms);
  } else if (best_wall >= 50ms) {
    WARN("wall bound not checked on a busy machine (load " << load << "): best of 10 was "
                                                           << best_wall.count() / 1'000'000 << " ms");
  }
}

TEST_CASE("smoke: JUnit is well-formed and counts, JSON parses back with the same verdicts") {
  const auto suite = write_file("mixed.yaml", R"(name: mixed <&> "quotes"
checks:
  - { name: ok, request: GET /health }
  - { name: "fails <status> & more", request: GET /status/503, expect: { status: 200 } }
  - name: uploads
    request: GET /status/500
    capture: { id: "$.id" }
  - { name: skipped, request: "GET /api/files/${id}" }
  - { name: body, request: GET /html, expect: { body: { contains: "<nope>" } } }
)");
  const auto junit = (scratch_dir() / "mixed.xml").string();
  const auto json = (scratch_dir() / "mixed.json").string();
  auto r = run_watchpost({"smoke", suite, "--base-url", target().http_url(""), "--base-url",
                          target().http_url("/"), "--junit", junit, "--json", json});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("status: expected 200, got 503"));

  REQUIRE(xml_well_formed(junit));
  const std::string xml = read_file(junit);
  CHECK(count(xml, "<testsuite ") == 2);
  CHECK(count(xml, "<testcase ") == 10);
  CHECK_THAT(xml,
             Catch::Contains(
                 "<testsuites name=\"mixed &lt;&amp;&gt; &quot;quotes&quot;\" tests=\"10\" failures=\"6\""));
  CHECK_THAT(xml, Catch::Contains("message=\"status: expected 200, got 503\""));
  CHECK(count(xml, "<skipped ") == 2);

  const std::string doc = read_file(json);
  CHECK(json_at(doc, "$.tests").number_value == 10);
  CHECK(json_at(doc, "$.failures").number_value == 6);
  CHECK(json_at(doc, "$.passed").bool_value == false);
  CHECK(json_at(doc, "$.targets[1].target").string_value == target().http_url("/"));
  CHECK(json_at(doc, "$.targets[0].checks[1].name").string_value == "fails <status> & more");
  CHECK(json_at(doc, "$.targets[0].checks[1].result").string_value == "status");
  CHECK(json_at(doc, "$.targets[0].checks[1].failures[0]").string_value == "status: expected 200, got 503");
  CHECK(json_at(doc, "$.targets[0].checks[3].skipped").bool_value);
  CHECK(json_at(doc, "$.targets[0].checks[0].timings_us.total").type == watchpost::probes::json_type::number);
}

TEST_CASE("smoke: a bearer token from the environment never reaches any output") {
  const std::string token = "tok-9f8e7d6c5b4a";
  test_target secured({"--token", token});
  const auto suite = write_file("secret.yaml", R"(name: secrets
defaults: { headers: { Authorization: "Bearer ${env:SMOKE_TOKEN}" } }
checks:
  - { name: admin with token, request: GET /admin/api/keys, expect: { status: 200 } }
  - name: echoed headers (fails, and its message would show the token)
    request: GET /headers
    expect:
      body: { contains: "no-such-text" }
      json: { "$.authorization": "Bearer something-else" }
      headers: { Content-Type: "${env:SMOKE_TOKEN}" }
  - name: token in the URL
    request: "GET /status/500?t=${env:SMOKE_TOKEN}"
)");
  const auto junit = (scratch_dir() / "secret.xml").string();
  const auto json = (scratch_dir() / "secret.json").string();
  auto r =
      run_watchpost({"smoke", suite, "--base-url", secured.http_url(""), "--junit", junit, "--json", json},
                    {{"SMOKE_TOKEN", token}});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\u2713 admin with token"));  // the token was sent and accepted
  CHECK_THAT(r.out, Catch::Contains("got \"{\\\"accept\\\"") || Catch::Contains("***"));
  for (const auto& output : {r.out, r.err, read_file(junit), read_file(json)}) {
    CHECK(output.find(token) == std::string::npos);
    CHECK(output.find("tok-9f8e") == std::string::npos);
  }
  CHECK_THAT(r.out, Catch::Contains("***"));
}

TEST_CASE("smoke: invalid suites exit 2 with file:line:col") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"malformed.yaml", "checks:\n  - request: GET /\n    expect: { status: 200\n"},
      {"unknown-key.yaml", "checks:\n  - request: GET /\n    expekt: { status: 200 }\n"},
      {"wrong-type.yaml", "checks:\n  - request: GET /\n    expect: { status: { a: 1 } }\n"},
      {"bad-jsonpath.yaml", "checks:\n  - request: GET /\n    expect: { json: { \"$..a\": 1 } }\n"},
      {"bad-duration.yaml", "checks:\n  - request: GET /\n    retry_interval: 10 parsecs\n"},
      {"unknown-var.yaml", "checks:\n  - request: GET /${where}\n"},
  };
  for (const auto& [name, text] : cases) {
    const auto path = write_file(name, text);
    for (const auto& command : {"smoke", "check-config"}) {
      INFO(command << " " << name);
      std::vector<std::string> args = {command, path};
      if (std::string(command) == "smoke") args.insert(args.end(), {"--base-url", "http://127.0.0.1:9"});
      auto r = run_watchpost(args);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::Matches(".*" + name + ":[0-9]+:[0-9]+: .*\n"));
      CHECK(count(r.err, "\n") == 1);
    }
  }
}

TEST_CASE("check-config validates a suite without traffic and rejects unknown kinds") {
  auto r = run_watchpost({"check-config", write_file("valid.yaml", ten_checks)});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("ok (smoke suite: suite 'ten checks', 10 checks)"));
  r = run_watchpost({"check-config", write_file("what.yaml", "hello: world\n")});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("what.yaml:1:1: cannot tell what kind of file this is"));
}

TEST_CASE("smoke --wait-ready waits for a late listener, and exits 3 when it never comes") {
  test_target late({"--listen-delay", "2s"});
  const auto suite = write_file("ready.yaml", "checks:\n  - request: GET /health\n");
  auto r = run_watchpost({"smoke", suite, "--base-url", late.http_url(""), "--wait-ready", "10s"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.wall > 1s);

  test_target never({"--listen-delay", "60s"});
  r = run_watchpost({"smoke", suite, "--base-url", never.http_url(""), "--wait-ready", "1s"});
  CHECK(r.exit_code == 3);
  CHECK(r.wall < 5s);
  CHECK_THAT(r.err, Catch::Contains("never became ready"));
}

TEST_CASE("smoke --preset deploy passes on a good deployment") {
  test_target good({"--profile", "good", "--redirect-plain"});
  auto r = run_watchpost({"smoke", "--preset", "deploy", good.https_url(""), "--ca-file", good.cert_file(),
                          "--http-url", good.http_url("")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(count(r.out, "\u2713 ") == 7);
}

TEST_CASE("smoke --preset deploy reports each misconfiguration of a bad deployment") {
  test_target bad({"--profile", "bad"});
  auto r = run_watchpost({"smoke", "--preset", "deploy", bad.https_url(""), "--ca-file", bad.cert_file(),
                          "--http-url", bad.http_url("")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\u2713 health"));
  CHECK_THAT(r.out,
             Catch::Contains("\u2717 admin") && Catch::Contains("status: expected [401, 403], got 200"));
  CHECK_THAT(r.out, Catch::Contains("\u2717 cors") &&
                        Catch::Contains("cors: expected no Access-Control-Allow-Origin \"*\""));
  CHECK_THAT(r.out, Catch::Contains("\u2717 redirect") &&
                        Catch::Contains("redirect: expected 3xx to https://..., got 200"));
  CHECK_THAT(r.out, Catch::Contains("\u2717 hsts") &&
                        Catch::Contains("header Strict-Transport-Security: expected present, got absent"));
  CHECK(count(r.out, "\u2717 ") == 4);

  // Skipped parts are not run at all.
  r = run_watchpost({"smoke", "--preset", "deploy", bad.https_url(""), "--ca-file", bad.cert_file(),
                     "--http-url", bad.http_url(""), "--skip", "admin,cors", "--skip", "redirect,hsts"});
  CHECK(r.exit_code == 0);
  CHECK(count(r.out, "\u2713 ") == 3);
}

TEST_CASE("smoke --preset deploy fails an expired certificate") {
  test_target expired({"--cert-days", "-1", "--redirect-plain"});
  auto r = run_watchpost({"smoke", "--preset", "deploy", expired.https_url(""), "--ca-file",
                          expired.cert_file(), "--http-url", expired.http_url("")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\u2717 tls") && Catch::Contains("tls_verify"));

  // Without verification the expiry itself is the reported failure.
  r = run_watchpost({"smoke", "--preset", "deploy", expired.https_url(""), "--insecure", "--http-url",
                     expired.http_url(""), "--min-cert-days", "30"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("tls cert_days_left: expected >= 30, got -"));
}

TEST_CASE("smoke: bad usage exits 2 with one line") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"smoke"},
           {"smoke", "/nonexistent.yaml", "--base-url", "http://127.0.0.1:9"},
           {"smoke", "--preset", "nope", "http://127.0.0.1:9"},
           {"smoke", "--preset", "deploy", "http://127.0.0.1:9", "--skip", "bogus"},
           {"smoke", "--preset", "deploy", "not a url"},
           {"smoke", "x.yaml", "--var", "novalue"}}) {
    INFO(args.back());
    auto r = run_watchpost(args);
    CHECK(r.exit_code == 2);
    CHECK(count(r.err, "\n") == 1);
  }
}

TEST_CASE("smoke --on-fail-webhook posts a signed summary on failure and keeps exit 1") {
  const auto failing = write_file("fail.yaml", "name: failing\nchecks:\n  - { request: GET /status/500 }\n");
  auto r = run_watchpost({"smoke", failing, "--base-url", target().http_url(""), "--on-fail-webhook",
                          target().http_url("/echo"), "--webhook-secret-env", "HOOK_SECRET"},
                         {{"HOOK_SECRET", "hook-secret-123"}});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("failure webhook delivered (1 attempt(s))"));
  CHECK(r.err.find("hook-secret-123") == std::string::npos);

  // An unreachable receiver is retried, reported, and does not change the verdict.
  r = run_watchpost({"smoke", failing, "--base-url", target().http_url(""), "--on-fail-webhook",
                     target().http_url("/status/503")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("failure webhook not delivered after 4 attempt(s)"));

  // A passing suite sends nothing.
  const auto passing = write_file("pass.yaml", "checks:\n  - { request: GET /health }\n");
  r = run_watchpost({"smoke", passing, "--base-url", target().http_url(""), "--on-fail-webhook",
                     target().http_url("/status/503")});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("smoke --webhook-secret(-env) signs the failure summary and the secret reaches no output") {
  const std::string secret = "hook-secret-7c1d";
  // The echo check makes the target answer with the secret, so its failure message would show it.
  const auto suite = write_file("signed.yaml", R"(name: signed
checks:
  - { name: health, request: GET /health }
  - name: echo
    request: { method: POST, path: /echo, body: "${ECHO}" }
    expect: { body: { not_contains: "${ECHO}" } }
)");
  const auto junit = (scratch_dir() / "signed.xml").string();
  const auto json = (scratch_dir() / "signed.json").string();
  for (const std::vector<std::string>& secret_args :
       {std::vector<std::string>{"--webhook-secret-env", "HOOK_SECRET"}, {"--webhook-secret", secret}}) {
    INFO(secret_args[0]);
    watchpost::agent_test::webhook_receiver receiver;
    std::vector<std::string> args = {"smoke",
                                     suite,
                                     "--base-url",
                                     target().http_url(""),
                                     "--var",
                                     "ECHO=" + secret,
                                     "--on-fail-webhook",
                                     "http://127.0.0.1:" + std::to_string(receiver.port()) + "/rollback",
                                     "--junit",
                                     junit,
                                     "--json",
                                     json};
    args.insert(args.end(), secret_args.begin(), secret_args.end());
    auto r = run_watchpost(args, {{"HOOK_SECRET", secret}});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Contains("body: expected not to contain \"***\""));
    const auto got = receiver.received();
    REQUIRE(got.size() == 1);
    // Signed over "<timestamp>.<body>" with this attempt's timestamp (replay protection).
    const auto age =
        std::chrono::system_clock::now() -
        std::chrono::system_clock::time_point(std::chrono::seconds(std::stoll(got[0].timestamp)));
    CHECK(age >= std::chrono::seconds(-1));
    CHECK(age < std::chrono::seconds(60));
    CHECK(got[0].signature == watchpost::testing::expected_signature(secret, got[0].timestamp, got[0].body));
    CHECK(got[0].signature !=
          watchpost::testing::expected_signature(secret + "x", got[0].timestamp, got[0].body));
    CHECK(json_at(got[0].body, "$.suite").string_value == "signed");
    CHECK(json_at(got[0].body, "$.run_id").string_value == got[0].event_id);
    CHECK(json_at(got[0].body, "$.targets[0].target").string_value == target().http_url(""));
    CHECK(json_at(got[0].body, "$.targets[0].failed_checks[0].name").string_value == "echo");
    CHECK(json_at(got[0].body, "$.targets[0].failed_checks[1]").type ==
          watchpost::probes::json_type::missing);
    for (const auto& output : {r.out, r.err, got[0].body, read_file(junit), read_file(json)})
      CHECK(output.find(secret) == std::string::npos);
  }

  // Usage errors name the options, never the secret.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"smoke", suite, "--base-url", "http://127.0.0.1:9", "--webhook-secret", secret},
           {"smoke", suite, "--base-url", "http://127.0.0.1:9", "--on-fail-webhook", "http://127.0.0.1:9/",
            "--webhook-secret", secret, "--webhook-secret-env", "HOOK_SECRET"}}) {
    auto r = run_watchpost(args);
    CHECK(r.exit_code == 2);
    CHECK(count(r.err, "\n") == 1);
    CHECK(r.err.find(secret) == std::string::npos);
  }
}

TEST_CASE("smoke: a report that cannot be written exits 3 after the push and the webhook") {
  using namespace watchpost::agent_test;
  const std::uint16_t gateway_port = reserve_port();
  const std::string gateway = "http://127.0.0.1:" + std::to_string(gateway_port);
  watchpost::testing::child_process pushgateway(
      require_installed("/usr/bin/prometheus-pushgateway", "prometheus-pushgateway"),
      {"--web.listen-address=127.0.0.1:" + std::to_string(gateway_port), "--log.level=error"});
  REQUIRE(wait_until([&] { return try_http_get(gateway + "/-/ready").has_value(); }, 10s));
  webhook_receiver receiver;
  const auto failing =
      write_file("unwritable.yaml", "name: unwritable\nchecks:\n  - { request: GET /status/500 }\n");
  const auto json = (scratch_dir() / "unwritable.json").string();
  const auto junit = (scratch_dir() / "no-such-dir" / "report.xml").string();
  auto r = run_watchpost({"smoke", failing, "--base-url", target().http_url(""), "--json", json, "--junit",
                          junit, "--push-gateway", gateway, "--on-fail-webhook",
                          "http://127.0.0.1:" + std::to_string(receiver.port()) + "/rollback"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(count(r.err, "cannot write") == 1);
  CHECK_THAT(r.err, Catch::Contains("watchpost smoke: --junit: cannot write '" + junit +
                                    "': No such file or directory\n"));
  CHECK(json_at(read_file(json), "$.suite").string_value == "unwritable");  // the other report is written
  REQUIRE(receiver.received().size() == 1);
  CHECK(json_at(receiver.received()[0].body, "$.suite").string_value == "unwritable");
  CHECK_THAT(http_get(gateway + "/metrics"), Catch::Contains("job=\"watchpost_smoke\""));
  CHECK(r.err.find("metrics not pushed") == std::string::npos);

  // A passing suite with an unwritable report exits 3 too, and sends no webhook.
  const auto passing = write_file("pass-unwritable.yaml", "checks:\n  - { request: GET /health }\n");
  r = run_watchpost({"smoke", passing, "--base-url", target().http_url(""), "--junit", junit,
                     "--on-fail-webhook",
                     "http://127.0.0.1:" + std::to_string(receiver.port()) + "/rollback"});
  CHECK(r.exit_code == 3);
  CHECK(count(r.err, "\n") == 1);
  CHECK(receiver.received().size() == 1);
}
