// `watchpost smoke` with RE2 body regexes on a 2 MB single-line response: linear time, the exit code
// of the verdict, and unsupported syntax refused at load time with file:line:col.
#include <catch2/catch.hpp>
#include <string>

#include "agent_fixture.hpp"
#include "process.hpp"

using namespace std::chrono_literals;
using watchpost::testing::run_watchpost;
using watchpost::testing::test_target;

namespace {

test_target& target() {
  static test_target t;
  return t;
}

std::string write_suite(const std::string& dir, const std::string& name, const std::string& text) {
  const auto path = dir + "/" + name + ".yaml";
  watchpost::agent_test::write_text(path, text);
  return path;
}

}  // namespace

TEST_CASE("smoke: body regexes on a 2 MB response finish and give the exit code") {
  const auto dir = watchpost::agent_test::temp_dir("regex-smoke");
  // /bytes/N sends byte i as 'a' + i % 26 on one line: 76923 alphabets, then "ab".
  const auto passing = write_suite(dir, "regex-pass", R"(
checks:
  - request: GET /bytes/2000000
    expect: { body: { matches: ['^(abcdefghijklmnopqrstuvwxyz)*ab$', '(a|a)*c'] } }
    capture: { tail: { regex: '([a-z]+)$' } }
)");
  auto r = run_watchpost({"smoke", passing, "--base-url", target().http_url("")}, {}, 30s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("1 passed, 0 failed, 0 skipped"));

  const auto failing = write_suite(dir, "regex-fail", R"(
checks:
  - request: GET /bytes/2000000
    expect: { body: { matches: '<title>.*</title>' } }
)");
  r = run_watchpost({"smoke", failing, "--base-url", target().http_url("")}, {}, 30s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("body: expected to match /<title>.*</title>/, got \"abcdefghij"));

  // An unsupported pattern stops the run before any request, named by file:line:col, and RE2
  // itself prints nothing.
  const auto unsupported = write_suite(
      dir, "regex-lookahead", "checks:\n  - request: GET /\n    expect: { body: { matches: '(?=x)' } }\n");
  r = run_watchpost({"smoke", unsupported, "--base-url", target().http_url("")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(unsupported + ":3:32: body.matches: invalid regular expression '(?=x)'"));
  CHECK_THAT(r.err, !Catch::Contains("re2.cc"));
}
