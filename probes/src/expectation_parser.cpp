// expect: blocks of suites, agent targets and load plans, read into an expectation with
// file:line:column errors.
#include "check_text.hpp"
#include "watchpost/probes/check.hpp"

namespace watchpost::probes {

namespace {

using detail::split_operator;
using detail::trim;

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
    if (auto n = m.optional("protocol")) {
      http_version v{};
      const std::string t = file_.string(*n, "protocol");
      if (!parse_http_version(t, v) || v == http_version::auto_)
        file_.fail(*n, "protocol must be h2 or http/1.1, got '" + t + "'");
      e.protocol = v;
    }
    if (auto n = m.optional("redirect")) {
      auto r = file_.mapping(*n, "expect.redirect");
      e.redirect_to_https = file_.boolean(r.required("to_https"), "redirect.to_https");
      if (auto a = r.optional("allow_refused"))
        e.redirect_allow_refused = file_.boolean(*a, "redirect.allow_refused");
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
      if (code < 100 || code > 599)
        file_.fail(n, "status must be 100..599 or a class like 2xx, got '" + t + "'");
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
        e.headers.push_back(
            {name,
             file_.boolean(*n, "present") ? header_rule::op::present : header_rule::op::absent,
             {},
             {}});
      }
      if (auto n = r.optional("absent")) {
        any = true;
        e.headers.push_back(
            {name, file_.boolean(*n, "absent") ? header_rule::op::absent : header_rule::op::present, {}, {}});
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
        e.json.push_back(
            {p, json_rule::op::equals, text_template::literal("null"), true, json_type::missing, {}});
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
    if (auto n = m.optional("alpn")) {
      rule.alpn = file_.string(*n, "tls.alpn");
      if (rule.alpn->empty() || rule.alpn->size() > 255)
        file_.fail(*n, "tls.alpn must be a protocol identifier like h2 or http/1.1");
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

}  // namespace watchpost::probes
