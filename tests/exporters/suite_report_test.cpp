// The smoke JSON report reads back into the result values: write -> read -> write gives the
// same bytes for a hand-built run (a real `watchpost smoke --json` report:
// tests/cli/suite_report_cli_test.cpp), and malformed reports fail with a one-line reason that
// names the place.
#include "watchpost/exporters/suite_report.hpp"

#include <catch2/catch.hpp>

#include "agent_fixture.hpp"
#include "watchpost/exporters/probe_report.hpp"

using namespace std::chrono_literals;
using namespace watchpost;

namespace {

exporters::suite_run sample_run() {
  using probes::failure_kind;
  probes::suite_result r;
  r.suite_name = "post-deploy \"quoted\" \u2713";
  r.started = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'123));
  r.duration = 41'250us;

  probes::check_outcome ok;
  ok.name = "health";
  ok.request_line = "GET /health";
  ok.attempts = 1;
  ok.duration = 1'500us;
  ok.response.status = 200;
  ok.response.timings = {10us, 120us, 900us, 300us, 70us, 1'400us};
  ok.response.tls.present = true;
  ok.response.tls.version = "TLSv1.3";
  ok.response.tls.cipher = "TLS_AES_256_GCM_SHA384";
  ok.response.tls.cert_subject = "CN=localhost";
  ok.response.tls.cert_not_after = std::chrono::system_clock::time_point(std::chrono::seconds(1'900'000'000));

  probes::check_outcome failed = ok;
  failed.name = "admin with sk-secret-9";
  failed.request_line = "GET /admin?token=sk-secret-9";
  failed.kind = failure_kind::status;
  failed.failures = {"status: expected [401, 403], got 200",
                     "body: expected not to contain \"<tab>\t\", got \xff"};
  failed.attempts = 3;
  failed.response.tls = {};

  probes::check_outcome transport;
  transport.name = "upload";
  transport.request_line = "POST /api/files";
  transport.kind = failure_kind::connect_timeout;
  transport.failures = {"request: connect_timeout: no TCP connection within 5s"};
  transport.attempts = 1;
  transport.duration = 5s;

  probes::check_outcome skipped;
  skipped.name = "read back";
  skipped.skipped = true;
  skipped.skip_reason = "needs capture 'file_id' from a failed check";

  r.checks = {ok, failed, transport, skipped};
  return {"post-deploy \"quoted\" \u2713",
          "0123456789abcdef",
          {{"https://a.example", r}, {"https://b.example", {}}}};
}

}  // namespace

TEST_CASE("smoke JSON report: write -> read -> write gives the same bytes") {
  probes::redactor redact;
  redact.add("sk-secret-9");
  const auto run = sample_run();
  const std::string first = exporters::suite_json(run, redact);
  const exporters::suite_run back = exporters::parse_suite_report(first);
  CHECK(exporters::suite_json(back, {}) == first);

  REQUIRE(back.targets.size() == 2);
  CHECK(back.suite_name == run.suite_name);
  CHECK(back.run_id == "0123456789abcdef");
  CHECK_FALSE(back.targets[1].result);
  const auto& r = *back.targets[0].result;
  CHECK(r.started == run.targets[0].result->started);
  CHECK(r.duration == 41'250us);
  REQUIRE(r.checks.size() == 4);
  CHECK(r.checks[0].passed());
  CHECK(r.checks[0].response.timings.tls == 900us);
  CHECK(r.checks[0].response.tls.cert_not_after ==
        run.targets[0].result->checks[0].response.tls.cert_not_after);
  CHECK(r.checks[1].name == "admin with ***");  // what was written is what comes back
  CHECK(r.checks[1].kind == probes::failure_kind::status);
  CHECK(r.checks[1].failures[1] == "body: expected not to contain \"<tab>\t\", got ?");
  CHECK(r.checks[1].attempts == 3);
  CHECK(r.checks[2].kind == probes::failure_kind::connect_timeout);
  CHECK(r.checks[3].skipped);
  CHECK(r.checks[3].skip_reason == run.targets[0].result->checks[3].skip_reason);
  CHECK(back.passed() == false);
  CHECK(back.any_not_ready());
}

TEST_CASE("smoke JSON report: malformed reports fail with a one-line reason naming the place") {
  const std::string good = exporters::suite_json(sample_run(), {});
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"schema\": ", "smoke report: not valid JSON ("},
      {"[]", "smoke report: expected an object"},
      {replaced("watchpost.smoke/v1", "watchpost.smoke/v9"),
       "smoke report: schema: expected \"watchpost.smoke/v1\""},
      {replaced("\"run_id\"", "\"run\""), "smoke report: missing field 'run_id'"},
      {replaced("\"status\":200", "\"status\":\"200\""),
       "smoke report: targets[0].checks[0].status: expected an integer"},
      {replaced("\"result\":\"status\"", "\"result\":\"bogus\""),
       "targets[0].checks[1].result: unexpected result 'bogus'"},
      {replaced("\"started\":\"", "\"started\":\"yesterday"), "targets[0].started: expected a UTC time"},
      {replaced("\"attempts\":3", "\"attempts\":1.5"), "targets[0].checks[1].attempts: expected an integer"},
      {replaced("\"failures\":2", "\"failures\":1"), "smoke report: failures: says 1, the checks give 2"},
      {replaced("\"skipped\":true", "\"skipped\":false"),
       "targets[0].checks[3].result: unexpected result 'skipped'"},
      {replaced("\"skip_reason\"", "\"reason\""), "targets[0].checks[3]: missing field 'skip_reason'"},
      {replaced("\"checks\":[", "\"checks\":{\"a\":1},\"x\":["), "targets[0].checks: expected an array"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text);
    try {
      exporters::parse_suite_report(text);
      FAIL("accepted");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(message));
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }

  const auto dir = agent_test::temp_dir("report");
  agent_test::write_text(dir + "/broken.json", "{\"schema\":\"watchpost.smoke/v1\"}");
  CHECK_THROWS_WITH(exporters::read_suite_report_file(dir + "/broken.json"),
                    dir + "/broken.json: smoke report: missing field 'suite'");
  CHECK_THROWS_WITH(exporters::read_suite_report_file(dir + "/absent.json"),
                    dir + "/absent.json: cannot read");
}
