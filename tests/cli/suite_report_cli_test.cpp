// A real `watchpost smoke --json` report of several targets reads back into the result values
// and writes the same bytes again (the hand-built runs: tests/exporters/suite_report_test.cpp).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "watchpost/exporters/suite_report.hpp"

using namespace watchpost;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("smoke JSON report: a real --json report of several targets reads back to the same bytes") {
  testing::test_target target;
  const auto dir = agent_test::temp_dir("report-cli");
  agent_test::write_text(dir + "/suite.yaml", R"(name: round trip
checks:
  - { name: health, request: GET /health, expect: { json: { "$.status": ok } } }
  - { name: broken, request: GET /status/503, expect: { status: 200 } }
  - { name: upload, request: GET /status/500, capture: { id: "$.id" } }
  - { name: read back, request: "GET /api/files/${id}" }
)");
  auto r = testing::run_watchpost({"smoke", dir + "/suite.yaml", "--base-url", target.http_url(""),
                                   "--base-url", target.https_url(""), "--ca-file", target.cert_file(),
                                   "--json", dir + "/r.json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  const std::string written = read_text(dir + "/r.json");
  const auto back = exporters::read_suite_report_file(dir + "/r.json");
  CHECK(exporters::suite_json(back, {}) == written);
  REQUIRE(back.targets.size() == 2);
  CHECK(back.targets[1].result->checks[0].response.tls.present);
  CHECK(back.targets[1].result->checks[3].skipped);
}
