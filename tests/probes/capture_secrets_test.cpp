// Secrets a suite learns while it runs (secret captures, credential headers built from captures)
// are masked in its outputs, and their number stays bounded when the same suite runs for weeks.
#include <catch2/catch.hpp>

#include "process.hpp"
#include "watchpost/probes/jsonpath.hpp"
#include "watchpost/probes/suite.hpp"

using namespace watchpost;
using namespace watchpost::probes;
using watchpost::testing::test_target;

namespace {

test_target& target() {
  static test_target t;
  return t;
}

// Logs in (POST /api/files answers a fresh id each time) and sends the id as a bearer token.
const char* const login_suite = R"(
checks:
  - request: { method: POST, path: /api/files, body: login }
    capture: { token: { json: "$.id", secret: true } }
  - request: { method: GET, path: /headers, headers: { Authorization: "Bearer ${token}" } }
    expect: { json: { "$.authorization": "Bearer ${token}" } }
)";

// The token the run captured, read from the login response.
std::string token_of(const suite_result& r) {
  REQUIRE(r.checks.size() == 2);
  REQUIRE(r.passed());
  std::string error;
  const auto id = evaluate_jsonpath(*parse_jsonpath("$.id", error), r.checks[0].response.body);
  REQUIRE(id.type == json_type::string);
  REQUIRE(id.string_value.size() >= 8);
  return id.string_value;
}

}  // namespace

TEST_CASE("redactor slots: a slot's new value replaces its old one, fixed secrets stay") {
  redactor r;
  r.add("fixed-secret");
  r.set_slot("a", "first-token");
  r.set_credential_slot("b", "Bearer header-token");
  CHECK(r.size() == 4);  // fixed, slot a, slot b's whole value and its token
  CHECK(r.apply("fixed-secret first-token Bearer header-token") == "*** *** ***");
  r.set_slot("a", "second-token");
  r.set_credential_slot("b", "Bearer other-token");
  CHECK(r.size() == 4);
  CHECK(r.apply("first-token second-token header-token other-token fixed-secret") ==
        "first-token *** header-token *** ***");
  // A slot value equal to a fixed secret is masked once and keeps the fixed one when replaced.
  r.set_slot("a", "fixed-secret");
  CHECK(r.size() == 3);
  r.set_slot("a", "third");
  CHECK(r.apply("fixed-secret third") == "*** ***");
  redactor copy;
  copy.merge(r);
  copy.merge(r);
  CHECK(copy.size() == r.size());
}

TEST_CASE("a suite that logs in on every run keeps a bounded set of captured secrets") {
  const suite s = parse_suite(config_file::parse(login_suite, "login.yaml"), {});
  const std::string base = target().http_url("");
  const auto run_once = [&] {
    auto results = run_suite_on_targets(s, {base}, client_options{});
    REQUIRE(results.at(0).has_value());
    return token_of(*results[0]);
  };
  const std::string first = run_once();
  const std::size_t size_after_one_run = s.secrets->size();
  CHECK(size_after_one_run == 2);  // "Bearer <token>" and the token (captured and in the header)
  CHECK(s.secrets->apply("Bearer " + first) == "***");

  std::string last;
  for (int i = 0; i < 300; ++i) last = run_once();
  REQUIRE(last != first);
  CHECK(s.secrets->size() == size_after_one_run);
  CHECK(s.secrets->apply("token " + last + " header Bearer " + last) == "token *** header ***");
  // The first run's token was replaced: that run's outputs were written while it was known.
  CHECK(s.secrets->apply(first) == first);
}

TEST_CASE("concurrent targets of one run each keep their own captured secret") {
  test_target other;
  const suite s = parse_suite(config_file::parse(login_suite, "login.yaml"), {});
  const auto results = run_suite_on_targets(s, {target().http_url(""), other.http_url("")}, client_options{});
  REQUIRE(results.size() == 2);
  REQUIRE(results[0].has_value());
  REQUIRE(results[1].has_value());
  const std::string a = token_of(*results[0]), b = token_of(*results[1]);
  // Both are masked when the reports are written after the run, though the capture has one name.
  CHECK(s.secrets->apply(a + " " + b) == "*** ***");
  CHECK(s.secrets->size() == 4);
}
