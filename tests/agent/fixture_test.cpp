// The test helpers themselves: a crashed agent or an unwritable file must fail the test that
// met it, never read as an empty answer.
#include <signal.h>

#include <catch2/catch.hpp>

#include "agent_fixture.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

TEST_CASE("fixture: http_get of a killed agent throws with the reason instead of returning empty") {
  const auto dir = temp_dir("fixture-crash");
  write_text(dir + "/agent.yaml",
             "listen: 127.0.0.1:0\nstate_dir: " + dir +
                 "/state\ntargets:\n  - { name: down, url: 'http://127.0.0.1:1/', interval: 1s }\n");
  running_agent agent(dir + "/agent.yaml");
  CHECK(agent.get("/healthz") == "ok\n");
  agent.process().signal(SIGKILL);
  REQUIRE(agent.process().wait(5s) == 128 + SIGKILL);
  CHECK_THROWS_WITH(agent.get("/healthz"), Catch::Contains("got no answer") && Catch::Contains("connect"));
  CHECK_FALSE(try_http_get("http://127.0.0.1:" + std::to_string(agent.port()) + "/healthz").has_value());
}

TEST_CASE("fixture: write_text to an unwritable path throws") {
  CHECK_THROWS_WITH(write_text("/proc/watchpost-no-such-dir/file", "x"), Catch::Contains("cannot write"));
}
