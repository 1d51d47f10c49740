// `smoke --on-fail-webhook` end to end: the real binary signs each attempt for a loopback
// receiver and stops retrying at a permanent refusal.
#include <catch2/catch.hpp>
#include <string>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "webhook_receiver.hpp"

using namespace watchpost;
using testing::webhook_receiver;

namespace {
const std::string secret = "whsec-test-4b1e";
}  // namespace

TEST_CASE("smoke --on-fail-webhook signs per attempt and stops at a 401", "[webhook]") {
  const auto dir = agent_test::temp_dir("smoke-hook");
  agent_test::write_text(dir + "/suite.yaml",
                         "name: hook\nchecks:\n  - { name: health, request: GET /health }\n");
  webhook_receiver receiver;
  receiver.answer_always(401);
  const auto r = testing::run_watchpost({"smoke", dir + "/suite.yaml", "--base-url", "http://127.0.0.1:1",
                                         "--on-fail-webhook", receiver.url(), "--webhook-secret-env", "HOOK"},
                                        {{"HOOK", secret}});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);  // the suite's failure, whatever became of the webhook
  CHECK_THAT(r.err, Catch::Contains("not delivered after 1 attempt(s)") && Catch::Contains("401"));
  const auto got = receiver.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].signature == testing::expected_signature(secret, got[0].timestamp, got[0].body));
  CHECK(r.err.find(secret) == std::string::npos);
}
