// `watchpost agent` and `check-config` on broken agent configs: exit 2 and an error that names
// the file, line and column where the mistake is, before anything runs.
#include <catch2/catch.hpp>
#include <string>

#include "agent_fixture.hpp"
#include "process.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;

TEST_CASE("an invalid config is rejected with file:line:col and exit code 2") {
  const auto dir = temp_dir("badconfig");
  write_text(dir + "/agent.yaml",
             "targets:\n  - name: a\n    url: http://127.0.0.1:1/\n    interval: soon\n");
  const auto r = testing::run_watchpost({"agent", dir + "/agent.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("agent.yaml:4:15") != std::string::npos);
}

TEST_CASE("a broken suite file is reported at its own file, line and column") {
  const auto dir = temp_dir("badsuite");
  write_text(dir + "/smoke.yaml",
             "name: s\nchecks:\n  - { name: a, request: GET /health, expect: { statuss: 200 } }\n");
  write_text(dir + "/agent.yaml",
             "targets:\n  - { name: a, url: 'http://127.0.0.1:1', suite: smoke.yaml }\n");
  auto r = testing::run_watchpost({"check-config", dir + "/agent.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(dir + "/smoke.yaml:3:") != std::string::npos);
  write_text(dir + "/agent.yaml",
             "targets:\n  - { name: a, url: 'http://127.0.0.1:1', suite: missing.yaml }\n");
  r = testing::run_watchpost({"agent", dir + "/agent.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("agent.yaml:2:50: cannot open suite file") != std::string::npos);
  write_text(dir + "/agent.yaml", "targets:\n  - { name: a, suite: smoke.yaml, expect: { status: 200 } }\n");
  r = testing::run_watchpost({"agent", dir + "/agent.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("expect: is for single probes") != std::string::npos);
}

TEST_CASE("check-config: an agent dns: error names file, line and column") {
  const auto dir = temp_dir("dns-check-config");
  write_text(dir + "/agent.yaml", "dns: { servers: [resolver.internal] }\ntargets: []\n");
  const auto r = testing::run_watchpost({"check-config", dir + "/agent.yaml"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.out + r.err,
             Catch::Contains(dir + "/agent.yaml:1:18: DNS server 'resolver.internal' must be IP[:PORT]"));
}
