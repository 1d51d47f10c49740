#pragma once
// Checks and assertions: the parsed `expect:` block and its evaluation against one result.
// The same expectation gates CI suites, runs as a load-test assertion and as an agent probe.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/common/config_file.hpp"
#include "watchpost/probes/http_types.hpp"
#include "watchpost/probes/jsonpath.hpp"
#include "watchpost/probes/variables.hpp"

namespace re2 {
class RE2;
}

namespace watchpost::probes {

// "< 500ms", "> 14", ">= 1.2": an operator and a number.
struct comparison {
  enum class op { lt, le, gt, ge, eq, ne };
  op oper = op::lt;
  double value = 0;
  std::string text;  // as written, for messages
  bool holds(double actual) const;
};
// Parses "OP NUMBER" (no unit); nullopt when the text is not a comparison.
std::optional<comparison> parse_comparison(std::string_view text);

// A user-supplied regular expression that remembers its source, compiled once at load time with
// RE2: matching is linear in the text and never recurses, so a huge or hostile response body cannot
// hang or crash the process. RE2 syntax has no backreferences and no lookaround. Copies share the
// compiled expression, which RE2 lets any number of threads match with at once.
struct pattern {
  std::string source;
  std::shared_ptr<const re2::RE2> re;
  // nullopt, with RE2's reason in `error`, for invalid or unsupported syntax.
  static std::optional<pattern> compile(const std::string& source, std::string& error);
  // True when the pattern matches anywhere in text (an unanchored search).
  bool search(std::string_view text) const;
  // The first match's group 1 if the pattern has a group, else the whole match; nullopt without a match.
  std::optional<std::string> capture(std::string_view text) const;
};

struct status_rule {
  std::vector<int> codes;    // exact codes
  std::vector<int> classes;  // 2 for "2xx"
  bool matches(int status) const;
  std::string describe() const;  // "200", "[401, 403]", "2xx"
};

struct header_rule {
  enum class op { present, absent, equals, matches, contains };
  std::string name;
  op oper = op::present;
  text_template value;  // equals / contains
  pattern regex;        // matches
};

struct body_rule {
  enum class op { contains, not_contains, matches, max_bytes };
  op oper = op::contains;
  text_template value;
  pattern regex;
  std::size_t max_bytes = 0;
};

struct json_rule {
  enum class op { equals, exists, type, compare };
  jsonpath path;
  op oper = op::exists;
  text_template expected;  // equals: the expected scalar as text ("ok", "2", "true", "null")
  bool exists = true;
  json_type type = json_type::missing;
  comparison compare;
};

struct tls_rule {
  std::optional<std::string> min_version;  // "1.2" or "1.3"
  std::optional<comparison> cert_days_left;
  std::optional<std::string> alpn;  // the protocol the server picked: "h2", "http/1.1"
};

// The parsed `expect:` block. Without a status rule a response must be 2xx or 3xx.
struct expectation {
  std::optional<status_rule> status;
  std::vector<header_rule> headers;
  std::vector<body_rule> body;
  std::vector<json_rule> json;
  std::optional<comparison> latency_ms;  // total time in milliseconds
  std::optional<tls_rule> tls;
  std::optional<http_version> protocol;            // `protocol: h2`: the HTTP the response came over
  bool redirect_to_https = false;                  // 3xx with an https:// Location
  bool redirect_allow_refused = false;             // ... or the plain port refuses connections
  bool cors_no_wildcard_with_credentials = false;  // never ACAO "*" with ACAC "true"

  // Capture names referenced by any value (the runner skips the check if one is missing).
  std::set<std::string> captures_used() const;
};

// Parses an `expect:` mapping. Without a scope, ${...} is kept literally; with one, names
// are resolved (vars, env) or kept as capture references.
expectation parse_expectation(const config_file& file, const YAML::Node& node);
expectation parse_expectation(const config_file& file, const YAML::Node& node, const variable_scope& scope);

// Every failed assertion, each "what: expected X, got Y". Empty = pass. Pure: no I/O.
// Transport failures (result.failure != none) come back as one "request: ..." message.
// Response text and expected values are masked with `mask` before they are cut to an excerpt
// and escaped (masking the finished message could miss a secret cut in two or escaped).
std::vector<std::string> evaluate(const expectation& expect, const result& res,
                                  const std::map<std::string, std::string>& captures = {},
                                  const redactor& mask = {});

struct check_outcome {
  std::string name;
  failure_kind kind = failure_kind::none;  // none | status | assertion | transport kinds
  std::vector<std::string> failures;       // "status: expected 200, got 503"
  result response;
  bool skipped = false;
  std::string skip_reason;   // "needs capture 'file_id' from a failed check"
  std::string request_line;  // "GET /api/files/..." (rendered, before redaction)
  int attempts = 0;
  nanoseconds duration{0};  // all attempts, including retry waits

  bool passed() const { return !skipped && kind == failure_kind::none; }
};

// The outcome of one attempt: failures from evaluate() and the kind they amount to.
check_outcome judge(const std::string& name, const expectation& expect, result res,
                    const std::map<std::string, std::string>& captures = {}, const redactor& mask = {});

}  // namespace watchpost::probes
