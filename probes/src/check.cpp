#include "watchpost/probes/check.hpp"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace watchpost::probes {

// ---------------------------------------------------------------- small values

bool comparison::holds(double actual) const {
  switch (oper) {
    case op::lt: return actual < value;
    case op::le: return actual <= value;
    case op::gt: return actual > value;
    case op::ge: return actual >= value;
    case op::eq: return actual == value;
    case op::ne: return actual != value;
  }
  return false;
}

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Splits "OP rest" into the operator and the trimmed rest.
std::optional<std::pair<comparison::op, std::string>> split_operator(std::string_view text) {
  const std::string t = trim(text);
  static constexpr std::pair<std::string_view, comparison::op> ops[] = {
      {"<=", comparison::op::le}, {">=", comparison::op::ge}, {"==", comparison::op::eq},
      {"!=", comparison::op::ne}, {"<", comparison::op::lt},  {">", comparison::op::gt}};
  for (const auto& [symbol, o] : ops)
    if (t.starts_with(symbol)) return std::pair{o, trim(std::string_view(t).substr(symbol.size()))};
  return std::nullopt;
}

std::optional<double> to_double(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Numbers in messages: integers without a fraction, others with up to 6 significant digits.
std::string number_text(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A quoted, single-line excerpt of response text for failure messages.
std::string excerpt(std::string_view text, std::size_t limit = 120) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const char c = text[i];
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '"') out += "\\\"";
    else if (static_cast<unsigned char>(c) < 0x20) out += '?';
    else out += c;
  }
  out += text.size() > limit ? "...\"" : "\"";
  return out;
}

std::string quoted(std::string_view text) { return excerpt(text, 200); }

}  // namespace

std::optional<comparison> parse_comparison(std::string_view text) {
  auto split = split_operator(text);
  if (!split) return std::nullopt;
  auto value = to_double(split->second);
  if (!value) return std::nullopt;
  return comparison{split->first, *value, trim(text)};
}

namespace {

// RE2's own default, stated so the bound is deliberate: a pattern whose program needs more fails at
// load time, and a search whose DFA cache fills up falls back to RE2's NFA, slower but still linear.
constexpr std::int64_t pattern_max_mem = std::int64_t{8} << 20;

re2::StringPiece piece(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

std::optional<pattern> pattern::compile(const std::string& source, std::string& error) {
  RE2::Options options;
  options.set_log_errors(false);  // RE2 would print every rejected pattern to stderr
  // Byte semantics, as bodies come in any encoding: in RE2's UTF-8 mode `.` skips invalid UTF-8,
  // so `<title>.*</title>` would miss a Latin-1 page. UTF-8 literals still match byte for byte.
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_max_mem(pattern_max_mem);
  auto re = std::make_shared<const RE2>(source, options);
  if (!re->ok()) {
    const bool unsupported = re->error_code() == RE2::ErrorBadPerlOp ||  // lookaround
                             re->error_code() == RE2::ErrorBadEscape;    // backreferences
    error = "invalid regular expression '" + source + "': " + re->error() +
            (unsupported ? " (RE2 syntax: no lookaround, no backreferences)" : "");
    return std::nullopt;
  }
  return pattern{source, std::move(re)};
}

bool pattern::search(std::string_view text) const { return re && RE2::PartialMatch(piece(text), *re); }

std::optional<std::string> pattern::capture(std::string_view text) const {
  if (!re) return std::nullopt;
  const int wanted = re->NumberOfCapturingGroups() > 0 ? 2 : 1;  // whole match, then group 1
  re2::StringPiece found[2];
  if (!re->Match(piece(text), 0, text.size(), RE2::UNANCHORED, found, wanted)) return std::nullopt;
  return std::string(found[wanted - 1].data(), found[wanted - 1].size());
}

bool status_rule::matches(int status) const {
  for (int c : codes)
    if (c == status) return true;
  for (int k : classes)
    if (status / 100 == k) return true;
  return false;
}

std::string status_rule::describe() const {
  std::vector<std::string> parts;
  for (int c : codes) parts.push_back(std::to_string(c));
  for (int k : classes) parts.push_back(std::to_string(k) + "xx");
  if (parts.size() == 1) return parts.front();
  std::string out = "[";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out + "]";
}

std::set<std::string> expectation::captures_used() const {
  std::set<std::string> names;
  auto add = [&](const text_template& t) { names.merge(t.captures_used()); };
  for (const auto& h : headers) add(h.value);
  for (const auto& b : body) add(b.value);
  for (const auto& j : json) add(j.expected);
  return names;
}

// ---------------------------------------------------------------- parsing

namespace {

class expectation_parser {
 public:
  expectation_parser(const config_file& file, const variable_scope* scope) : file_(file), scope_(scope) {}

  expectation parse(const YAML::Node& node) {
    expectation e;
    auto m = file_.mapping(node, "expect");
    if (auto n = m.optional("status")) e.status = status(*n);
    if (auto n = m.optional("headers")) headers(*n, e);
    if (auto n = m.optional("body")) body(*n, e);
    if (auto n = m.optional("json")) json(*n, e);
    if (auto n = m.optional("latency")) e.latency_ms = latency(*n);
    if (auto n = m.optional("tls")) e.tls = tls(*n);
    if (auto n = m.optional("redirect")) {
      auto r = file_.mapping(*n, "expect.redirect");
      e.redirect_to_https = file_.boolean(r.required("to_https"), "redirect.to_https");
      if (auto a = r.optional("allow_refused")) e.redirect_allow_refused = file_.boolean(*a, "redirect.allow_refused");
      r.finish();
    }
    if (auto n = m.optional("cors")) {
      auto c = file_.mapping(*n, "expect.cors");
      e.cors_no_wildcard_with_credentials =
          file_.boolean(c.required("no_wildcard_with_credentials"), "cors.no_wildcard_with_credentials");
      c.finish();
    }
    m.finish();
    return e;
  }

 private:
  text_template text(const YAML::Node& node, std::string_view what) const {
    if (scope_) return scope_->expand(file_, node, what);
    return text_template::literal(file_.string(node, what));
  }
  std::string load_time_text(const YAML::Node& node, std::string_view what) const {
    return scope_ ? scope_->expand_now(file_, node, what) : file_.string(node, what);
  }
  pattern regex(const YAML::Node& node, std::string_view what) const {
    std::string error;
    auto p = pattern::compile(load_time_text(node, what), error);
    if (!p) file_.fail(node, std::string(what) + ": " + error);
    return *p;
  }

  status_rule status(const YAML::Node& node) const {
    status_rule rule;
    auto one = [&](const YAML::Node& n) {
      const std::string t = file_.string(n, "status");
      if (t.size() == 3 && t[0] >= '1' && t[0] <= '5' && (t.substr(1) == "xx" || t.substr(1) == "XX")) {
        rule.classes.push_back(t[0] - '0');
        return;
      }
      const auto code = file_.integer(n, "status");
      if (code < 100 || code > 599) file_.fail(n, "status must be 100..599 or a class like 2xx, got '" + t + "'");
      rule.codes.push_back(static_cast<int>(code));
    };
    if (node.IsSequence()) {
      for (const auto& n : file_.sequence(node, "status")) one(n);
      if (rule.codes.empty() && rule.classes.empty()) file_.fail(node, "status list must not be empty");
    } else {
      one(node);
    }
    return rule;
  }

  void headers(const YAML::Node& node, expectation& e) const {
    auto m = file_.mapping(node, "expect.headers");
    for (const auto& entry : node) {
      const std::string name = file_.string(entry.first, "header name");
      m.optional(name);
      const YAML::Node& spec = entry.second;
      const std::string what = "header " + name;
      if (spec.IsScalar()) {  // shorthand: the value must equal this
        e.headers.push_back({name, header_rule::op::equals, text(spec, what), {}});
        continue;
      }
      auto r = file_.mapping(spec, what);
      bool any = false;
      if (auto n = r.optional("present")) {
        any = true;
        e.headers.push_back({name, file_.boolean(*n, "present") ? header_rule::op::present : header_rule::op::absent, {}, {}});
      }
      if (auto n = r.optional("absent")) {
        any = true;
        e.headers.push_back({name, file_.boolean(*n, "absent") ? header_rule::op::absent : header_rule::op::present, {}, {}});
      }
      if (auto n = r.optional("equals")) {
        any = true;
        e.headers.push_back({name, header_rule::op::equals, text(*n, what), {}});
      }
      if (auto n = r.optional("contains")) {
        any = true;
        e.headers.push_back({name, header_rule::op::contains, text(*n, what), {}});
      }
      if (auto n = r.optional("matches")) {
        any = true;
        e.headers.push_back({name, header_rule::op::matches, {}, regex(*n, what)});
      }
      r.finish();
      if (!any) file_.fail(spec, what + " needs one of: present, absent, equals, contains, matches");
    }
  }

  void body(const YAML::Node& node, expectation& e) const {
    auto m = file_.mapping(node, "expect.body");
    // Each text assertion takes one string or a list of strings.
    auto each = [&](const YAML::Node& n, const char* what, auto&& add) {
      if (n.IsSequence()) {
        for (const auto& item : file_.sequence(n, what)) add(item);
      } else {
        add(n);
      }
    };
    if (auto n = m.optional("contains"))
      each(*n, "body.contains", [&](const YAML::Node& v) {
        e.body.push_back({body_rule::op::contains, text(v, "body.contains"), {}, 0});
      });
    if (auto n = m.optional("not_contains"))
      each(*n, "body.not_contains", [&](const YAML::Node& v) {
        e.body.push_back({body_rule::op::not_contains, text(v, "body.not_contains"), {}, 0});
      });
    if (auto n = m.optional("matches"))
      each(*n, "body.matches", [&](const YAML::Node& v) {
        e.body.push_back({body_rule::op::matches, {}, regex(v, "body.matches"), 0});
      });
    if (auto n = m.optional("max_bytes")) {
      const auto max = file_.integer(*n, "body.max_bytes");
      if (max < 0) file_.fail(*n, "body.max_bytes must be >= 0");
      e.body.push_back({body_rule::op::max_bytes, {}, {}, static_cast<std::size_t>(max)});
    }
    m.finish();
  }

  jsonpath path(const YAML::Node& node) const {
    std::string error;
    auto p = parse_jsonpath(file_.string(node, "JSONPath"), error);
    if (!p) file_.fail(node, error);
    return *p;
  }

  void json(const YAML::Node& node, expectation& e) const {
    auto m = file_.mapping(node, "expect.json");
    for (const auto& entry : node) {
      const std::string key = file_.string(entry.first, "JSONPath");
      m.optional(key);
      const jsonpath p = path(entry.first);
      const YAML::Node& spec = entry.second;
      const std::string what = "json " + key;
      if (spec.IsNull()) {  // "$.x": null
        e.json.push_back({p, json_rule::op::equals, text_template::literal("null"), true, json_type::missing, {}});
        continue;
      }
      if (spec.IsScalar()) {  // shorthand: "> 3" compares, anything else must equal
        if (auto c = parse_comparison(spec.Scalar())) {
          json_rule r{p, json_rule::op::compare, {}, true, json_type::missing, *c};
          e.json.push_back(std::move(r));
        } else {
          e.json.push_back({p, json_rule::op::equals, text(spec, what), true, json_type::missing, {}});
        }
        continue;
      }
      auto r = file_.mapping(spec, what);
      bool any = false;
      if (auto n = r.optional("equals")) {
        any = true;
        e.json.push_back({p, json_rule::op::equals, text(*n, what), true, json_type::missing, {}});
      }
      if (auto n = r.optional("exists")) {
        any = true;
        e.json.push_back({p, json_rule::op::exists, {}, file_.boolean(*n, "exists"), json_type::missing, {}});
      }
      if (auto n = r.optional("type")) {
        any = true;
        json_type t{};
        if (!parse_json_type(file_.string(*n, "type"), t))
          file_.fail(*n, "type must be one of null, boolean, number, string, array, object");
        e.json.push_back({p, json_rule::op::type, {}, true, t, {}});
      }
      if (auto n = r.optional("compare")) {
        any = true;
        auto c = parse_comparison(file_.string(*n, "compare"));
        if (!c) file_.fail(*n, "compare must be an operator and a number like \"> 3\" or \"<= 0.5\"");
        e.json.push_back({p, json_rule::op::compare, {}, true, json_type::missing, *c});
      }
      r.finish();
      if (!any) file_.fail(spec, what + " needs one of: equals, exists, type, compare");
    }
  }

  comparison latency(const YAML::Node& node) const {
    const std::string t = file_.string(node, "latency");
    auto split = split_operator(t);
    auto d = split ? parse_duration(split->second) : std::nullopt;
    if (!d) file_.fail(node, "latency must be a bound like \"< 500ms\", got '" + t + "'");
    return comparison{split->first, std::chrono::duration<double, std::milli>(*d).count(), trim(t)};
  }

  tls_rule tls(const YAML::Node& node) const {
    tls_rule rule;
    auto m = file_.mapping(node, "expect.tls");
    if (auto n = m.optional("min_version")) {
      std::string v = file_.string(*n, "tls.min_version");
      if (v.starts_with("TLSv")) v = v.substr(4);
      if (v != "1.0" && v != "1.1" && v != "1.2" && v != "1.3")
        file_.fail(*n, "tls.min_version must be 1.0, 1.1, 1.2 or 1.3");
      rule.min_version = v;
    }
    if (auto n = m.optional("cert_days_left")) {
      rule.cert_days_left = parse_comparison(file_.string(*n, "tls.cert_days_left"));
      if (!rule.cert_days_left) file_.fail(*n, "tls.cert_days_left must be a bound like \"> 14\"");
    }
    m.finish();
    return rule;
  }

  const config_file& file_;
  const variable_scope* scope_;
};

}  // namespace

expectation parse_expectation(const config_file& file, const YAML::Node& node) {
  return expectation_parser(file, nullptr).parse(node);
}

expectation parse_expectation(const config_file& file, const YAML::Node& node, const variable_scope& scope) {
  return expectation_parser(file, &scope).parse(node);
}

// ---------------------------------------------------------------- evaluation

namespace {

std::string header_text(const result& res, const std::string& name) {
  const std::string* v = res.header(name);
  return v ? quoted(*v) : std::string("absent");
}

void check_headers(const expectation& e, const result& res, const std::map<std::string, std::string>& captures,
                   std::vector<std::string>& out) {
  for (const auto& rule : e.headers) {
    const std::string* actual = res.header(rule.name);
    const std::string what = "header " + rule.name + ": expected ";
    switch (rule.oper) {
      case header_rule::op::present:
        if (!actual) out.push_back(what + "present, got absent");
        break;
      case header_rule::op::absent:
        if (actual) out.push_back(what + "absent, got " + quoted(*actual));
        break;
      case header_rule::op::equals: {
        const std::string want = rule.value.render(captures);
        if (!actual || *actual != want) out.push_back(what + quoted(want) + ", got " + header_text(res, rule.name));
        break;
      }
      case header_rule::op::contains: {
        const std::string want = rule.value.render(captures);
        if (!actual || actual->find(want) == std::string::npos)
          out.push_back(what + "to contain " + quoted(want) + ", got " + header_text(res, rule.name));
        break;
      }
      case header_rule::op::matches:
        if (!actual || !rule.regex.search(*actual))
          out.push_back(what + "to match /" + rule.regex.source + "/, got " + header_text(res, rule.name));
        break;
    }
  }
}

void check_body(const expectation& e, const result& res, const std::map<std::string, std::string>& captures,
                std::vector<std::string>& out) {
  const std::string got = ", got " + excerpt(res.body) + " (" + std::to_string(res.body.size()) + " bytes)";
  for (const auto& rule : e.body) {
    switch (rule.oper) {
      case body_rule::op::contains: {
        const std::string want = rule.value.render(captures);
        if (res.body.find(want) == std::string::npos) out.push_back("body: expected to contain " + quoted(want) + got);
        break;
      }
      case body_rule::op::not_contains: {
        const std::string unwanted = rule.value.render(captures);
        if (auto at = res.body.find(unwanted); at != std::string::npos)
          out.push_back("body: expected not to contain " + quoted(unwanted) + ", found it at byte " +
                        std::to_string(at));
        break;
      }
      case body_rule::op::matches:
        if (!rule.regex.search(res.body)) out.push_back("body: expected to match /" + rule.regex.source + "/" + got);
        break;
      case body_rule::op::max_bytes:
        if (res.body.size() > rule.max_bytes)
          out.push_back("body: expected at most " + std::to_string(rule.max_bytes) + " bytes, got " +
                        std::to_string(res.body.size()) + " bytes");
        break;
    }
  }
}

std::string describe_json(const json_lookup& v) {
  if (v.type == json_type::missing) return "nothing (path not found)";
  if (v.type == json_type::string) return quoted(v.string_value);
  return v.json.size() > 120 ? v.json.substr(0, 120) + "..." : v.json;
}

bool json_equals(const json_lookup& v, const std::string& want) {
  switch (v.type) {
    case json_type::string: return v.string_value == want;
    case json_type::number: {
      auto n = to_double(want);
      return n && *n == v.number_value;
    }
    case json_type::boolean: return want == (v.bool_value ? "true" : "false");
    case json_type::null: return want == "null" || want == "~" || want.empty();
    case json_type::array:
    case json_type::object: return v.json == want;
    case json_type::missing: return false;
  }
  return false;
}

void check_json(const expectation& e, const result& res, const std::map<std::string, std::string>& captures,
                std::vector<std::string>& out) {
  for (const auto& rule : e.json) {
    const json_lookup v = evaluate_jsonpath(rule.path, res.body);
    const std::string what = "json " + rule.path.text + ": expected ";
    if (!v.document_valid) {
      out.push_back("json " + rule.path.text + ": expected a JSON body, got " + excerpt(res.body));
      continue;
    }
    switch (rule.oper) {
      case json_rule::op::equals: {
        const std::string want = rule.expected.render(captures);
        if (!json_equals(v, want)) out.push_back(what + quoted(want) + ", got " + describe_json(v));
        break;
      }
      case json_rule::op::exists:
        if ((v.type != json_type::missing) != rule.exists)
          out.push_back(what + (rule.exists ? "to exist, got nothing (path not found)" : "to be absent, got " + describe_json(v)));
        break;
      case json_rule::op::type:
        if (v.type != rule.type)
          out.push_back(what + "type " + std::string(to_string(rule.type)) + ", got " +
                        std::string(to_string(v.type)) + (v.type == json_type::missing ? "" : " " + describe_json(v)));
        break;
      case json_rule::op::compare:
        if (v.type != json_type::number) out.push_back(what + "a number " + rule.compare.text + ", got " + describe_json(v));
        else if (!rule.compare.holds(v.number_value))
          out.push_back(what + rule.compare.text + ", got " + number_text(v.number_value));
        break;
    }
  }
}

// "TLSv1.2" -> 1.2
std::optional<double> tls_version_number(std::string_view v) {
  if (v.starts_with("TLSv")) v.remove_prefix(4);
  return to_double(v);
}

void check_tls(const tls_rule& rule, const result& res, std::vector<std::string>& out) {
  if (!res.tls.present) {
    out.push_back("tls: expected a TLS connection, got plain HTTP");
    return;
  }
  if (rule.min_version) {
    auto have = tls_version_number(res.tls.version);
    if (!have || *have < *to_double(*rule.min_version))
      out.push_back("tls version: expected >= TLSv" + *rule.min_version + ", got " +
                    (res.tls.version.empty() ? "unknown" : res.tls.version));
  }
  if (rule.cert_days_left) {
    if (!res.tls.cert_not_after) {
      out.push_back("tls cert_days_left: expected " + rule.cert_days_left->text + ", got no certificate expiry");
    } else {
      const auto left = *res.tls.cert_not_after - std::chrono::system_clock::now();
      const double days = std::floor(std::chrono::duration<double>(left).count() / 86400.0);
      if (!rule.cert_days_left->holds(days))
        out.push_back("tls cert_days_left: expected " + rule.cert_days_left->text + ", got " + number_text(days));
    }
  }
}

}  // namespace

std::vector<std::string> evaluate(const expectation& e, const result& res,
                                  const std::map<std::string, std::string>& captures) {
  std::vector<std::string> out;
  if (!res.ok()) {
    // A refused plain listener is an acceptable answer to "plain HTTP must not serve".
    if (e.redirect_allow_refused && res.failure == failure_kind::connect) return out;
    out.push_back("request: expected a response, got " + std::string(to_string(res.failure)) +
                  (res.error.empty() ? "" : " (" + res.error + ")"));
    return out;
  }
  const status_rule default_status{{}, {2, 3}};
  if (!e.redirect_to_https) {
    const status_rule& want = e.status ? *e.status : default_status;
    if (!want.matches(res.status))
      out.push_back("status: expected " + want.describe() + ", got " + std::to_string(res.status));
  } else if (e.status && !e.status->matches(res.status)) {
    out.push_back("status: expected " + e.status->describe() + ", got " + std::to_string(res.status));
  }
  check_headers(e, res, captures, out);
  check_body(e, res, captures, out);
  check_json(e, res, captures, out);
  if (e.latency_ms) {
    const double ms = std::chrono::duration<double, std::milli>(res.timings.total).count();
    if (!e.latency_ms->holds(ms))
      out.push_back("latency: expected " + e.latency_ms->text + ", got " + format_duration(res.timings.total));
  }
  if (e.tls) check_tls(*e.tls, res, out);
  if (e.redirect_to_https) {
    const std::string* location = res.header("Location");
    const bool redirects = res.status >= 300 && res.status < 400 && location && location->starts_with("https://");
    if (!redirects)
      out.push_back("redirect: expected 3xx to https://..., got " + std::to_string(res.status) +
                    (location ? " to " + quoted(*location) : " without Location"));
  }
  if (e.cors_no_wildcard_with_credentials) {
    const std::string* origin = res.header("Access-Control-Allow-Origin");
    const std::string* credentials = res.header("Access-Control-Allow-Credentials");
    if (origin && *origin == "*" && credentials && iequals(*credentials, "true"))
      out.push_back("cors: expected no Access-Control-Allow-Origin \"*\" with credentials, got \"*\" and "
                    "Access-Control-Allow-Credentials \"true\"");
  }
  return out;
}

check_outcome judge(const std::string& name, const expectation& expect, result res,
                    const std::map<std::string, std::string>& captures) {
  check_outcome o;
  o.name = name;
  o.failures = evaluate(expect, res, captures);
  if (!o.failures.empty()) {
    if (!res.ok() && !(expect.redirect_allow_refused && res.failure == failure_kind::connect)) o.kind = res.failure;
    else if (o.failures.front().starts_with("status:")) o.kind = failure_kind::status;
    else o.kind = failure_kind::assertion;
  }
  o.response = std::move(res);
  return o;
}

}  // namespace watchpost::probes
