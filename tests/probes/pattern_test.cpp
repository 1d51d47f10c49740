// User regexes on response data run on RE2: linear time on huge single-line bodies, unsupported
// syntax rejected at load time with file:line:col, captures as documented (`smoke` with them:
// tests/cli/pattern_cli_test.cpp).
#include <catch2/catch.hpp>
#include <chrono>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "watchpost/probes/check.hpp"
#include "watchpost/probes/suite.hpp"

using namespace watchpost;
using namespace watchpost::probes;
using namespace std::chrono_literals;
using watchpost::testing::test_target;

namespace {

// A search over 2 MB takes milliseconds on RE2's DFA; the bound leaves room for a loaded machine,
// and for the sanitizers' instrumentation, which costs several times that.
// A capture group across the whole 2 MB runs RE2's NFA instead: linear too, ~0.4 s on a loaded machine.
#if defined(WATCHPOST_SANITIZED)
constexpr auto regex_budget = 10s;
constexpr auto capture_budget = 30s;
#else
constexpr auto regex_budget = 1s;
constexpr auto capture_budget = 3s;
#endif

constexpr std::size_t two_megabytes = 2 * 1024 * 1024;

test_target& target() {
  static test_target t;
  return t;
}

// A 200 response with this body.
result response(std::string body) {
  result r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

// The failures of `expect: { body: { matches: REGEX } }` on this body, with the time they took.
std::vector<std::string> body_match_failures(const std::string& regex, const std::string& body,
                                             std::chrono::steady_clock::duration& took) {
  const auto file = config_file::parse("body: { matches: '" + regex + "' }\n", "inline.yaml");
  const expectation e = parse_expectation(file, file.root());
  const result res = response(body);
  const auto start = std::chrono::steady_clock::now();
  auto failures = evaluate(e, res);
  took = std::chrono::steady_clock::now() - start;
  return failures;
}

std::string load_error(const std::string& text) {
  try {
    parse_suite(config_file::parse(text, "inline.yaml"), {});
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("no config_error for:\n" << text);
  return {};
}

}  // namespace

TEST_CASE("a 2 MB single-line body against a nested alternation loop gets its verdict in under 1 s") {
  std::chrono::steady_clock::duration took{};
  const std::string no_c(two_megabytes, 'a');
  const auto failures = body_match_failures("(a|a)*c", no_c, took);
  CHECK(took < regex_budget);
  REQUIRE(failures.size() == 1);
  CHECK_THAT(failures[0], Catch::StartsWith("body: expected to match /(a|a)*c/, got \"aaaa"));
  CHECK_THAT(failures[0], Catch::EndsWith("(2097152 bytes)"));

  CHECK(body_match_failures("(a|a)*c", no_c + "c", took).empty());
  CHECK(took < regex_budget);
}

TEST_CASE("a 2 MB single-line page against a title regex gets its verdict in under 1 s") {
  const std::string filler(two_megabytes, 'x');
  const std::string with_title = "<html><head><title>" + filler + "</title></head></html>";
  const std::string without_title = "<html><head><title>" + filler + "</head></html>";
  std::chrono::steady_clock::duration took{};

  CHECK(body_match_failures("<title>.*</title>", with_title, took).empty());
  CHECK(took < regex_budget);

  const auto failures = body_match_failures("<title>.*</title>", without_title, took);
  CHECK(took < regex_budget);
  REQUIRE(failures.size() == 1);
  CHECK_THAT(failures[0], Catch::StartsWith("body: expected to match /<title>.*</title>/"));

  std::string error;
  const auto title = pattern::compile("<title>(.*)</title>", error);
  REQUIRE(title);
  const auto start = std::chrono::steady_clock::now();
  const auto captured = title->capture(with_title);
  CHECK(std::chrono::steady_clock::now() - start < capture_budget);
  REQUIRE(captured);
  CHECK(*captured == filler);
  CHECK_FALSE(title->capture(without_title));
}

TEST_CASE("a capture is group 1 when the pattern has a group, else the whole match") {
  std::string error;
  const auto grouped = pattern::compile("id=([0-9]+)", error);
  const auto whole = pattern::compile("[0-9]+", error);
  const auto optional_group = pattern::compile("(x)?42", error);
  REQUIRE(grouped);
  REQUIRE(whole);
  REQUIRE(optional_group);
  CHECK(grouped->capture("order 7 id=42;") == "42");
  CHECK(whole->capture("order 7 id=42;") == "7");
  CHECK(optional_group->capture("id=42") == "");  // the group took no part in the match
  CHECK_FALSE(grouped->capture("no id here"));
  CHECK(grouped->search("a long line, then id=1"));  // a search, not anchored at the start
  CHECK_FALSE(grouped->search("id="));
}

TEST_CASE("patterns match bytes, so bodies in any encoding are searched whole") {
  std::string error;
  const auto title = pattern::compile("<title>(.*)</title>", error);
  const auto accented = pattern::compile("caf\xc3\xa9", error);  // "café" in UTF-8, as YAML gives it
  REQUIRE(title);
  REQUIRE(accented);
  CHECK(title->capture("<title>caf\xe9 \xff</title>") == "caf\xe9 \xff");  // Latin-1 and stray bytes
  CHECK(title->capture("<title>caf\xc3\xa9</title>") == "caf\xc3\xa9");
  CHECK(accented->search("le caf\xc3\xa9 du coin"));
  CHECK_FALSE(accented->search("le caf\xe9 du coin"));
}

TEST_CASE("suite captures take group 1 or the whole match of a body regex") {
  const auto s = parse_suite(config_file::parse(R"(
checks:
  - name: upload
    request: { method: POST, path: /api/files, body: "canary" }
    capture:
      size: { regex: '"size":([0-9]+)' }
      size_field: { regex: '"size":[0-9]+' }
    expect: { status: 201 }
  - name: echo
    request: { method: POST, path: /echo, body: "${size}|${size_field}" }
    expect: { body: { matches: '^6\|"size":6$' } }
)",
                                                "inline.yaml"),
                             {});
  const auto r = run_suite_on_targets(s, {target().http_url("")}, client_options{}).at(0).value();
  REQUIRE(r.checks.size() == 2);
  CHECK(r.checks[0].passed());
  INFO((r.checks[1].failures.empty() ? "" : r.checks[1].failures.front()));
  CHECK(r.checks[1].passed());
}

TEST_CASE("lookaround and backreferences are load-time errors naming file:line:col") {
  CHECK(load_error("checks:\n  - request: GET /\n    expect: { body: { matches: '(?=x)' } }\n") ==
        "inline.yaml:3:32: body.matches: invalid regular expression '(?=x)': invalid perl operator: (?= "
        "(RE2 syntax: no lookaround, no backreferences)");
  CHECK(
      load_error("checks:\n  - request: GET /\n    expect: { headers: { ETag: { matches: '(a)\\1' } } }\n") ==
      "inline.yaml:3:43: header ETag: invalid regular expression '(a)\\1': invalid escape sequence: \\1 "
      "(RE2 syntax: no lookaround, no backreferences)");
  CHECK(load_error("checks:\n  - request: GET /\n    capture: { tail: { regex: '(?<=a)b' } }\n") ==
        "inline.yaml:3:31: capture tail: invalid regular expression '(?<=a)b': invalid perl operator: (?< "
        "(RE2 syntax: no lookaround, no backreferences)");
  // Other syntax errors carry RE2's reason without the hint.
  CHECK(load_error("checks:\n  - request: GET /\n    expect: { body: { matches: 'a(' } }\n") ==
        "inline.yaml:3:32: body.matches: invalid regular expression 'a(': missing ): a(");
}
