// Suite files -> suite values. Every problem is a config_error at file:line:col.
#include "watchpost/probes/suite.hpp"

#include <cctype>

namespace watchpost::probes {

bool suite_result::passed() const { return failed_count() == 0; }

std::size_t suite_result::failed_count() const {
  std::size_t n = 0;
  for (const auto& c : checks) n += !c.skipped && !c.passed();
  return n;
}

std::size_t suite_result::skipped_count() const {
  std::size_t n = 0;
  for (const auto& c : checks) n += c.skipped;
  return n;
}

namespace {

class suite_parser {
 public:
  suite_parser(const config_file& file, const std::map<std::string, std::string>& vars, suite& s)
      : file_(file), suite_(s), scope_(vars, *s.secrets) {}

  void parse() {
    auto m = file_.mapping(file_.root(), "suite");
    suite_.file = file_.path();
    if (auto n = m.optional("name")) suite_.name = file_.string(*n, "name");
    if (auto n = m.optional("base_url")) {
      suite_.base_url = scope_.expand_now(file_, *n, "base_url");
      if (auto u = parse_url(suite_.base_url); std::holds_alternative<url_error>(u))
        file_.fail(*n, "base_url: " + suite_.secrets->apply(std::get<url_error>(u).message));
    }
    if (auto n = m.optional("defaults")) defaults(*n);
    if (auto n = m.optional("http_version")) suite_.version = version(*n);
    if (auto n = m.optional("parallel")) suite_.parallel = file_.boolean(*n, "parallel");
    const YAML::Node checks = m.required("checks");
    m.finish();
    if (suite_.name.empty()) suite_.name = file_.path();
    const auto items = file_.sequence(checks, "checks");
    if (items.empty()) file_.fail(checks, "checks must list at least one check");
    for (const auto& item : items) suite_.checks.push_back(check_item(item));
  }

 private:
  // A header value: a string, or { value: ..., secret: true }. Credential headers are
  // always secret.
  text_template header_value(const std::string& name, const YAML::Node& node) {
    bool secret = is_credential_header(name);
    text_template value;
    if (node.IsMap()) {
      auto m = file_.mapping(node, "header " + name);
      value = scope_.expand(file_, m.required("value"), "header " + name);
      if (auto s = m.optional("secret")) secret = secret || file_.boolean(*s, "secret");
      m.finish();
    } else {
      value = scope_.expand(file_, node, "header " + name);
    }
    if (secret && value.is_literal()) {
      suite_.secrets->add_credential_header(value.render({}));
    } else if (secret && !is_credential_header(name)) {
      // Credential headers built from captures are registered when rendered (suite_runner);
      // other headers carry no mark at run time, so they could not be redacted.
      file_.fail(node, "header " + name + ": a value marked secret cannot use captures");
    }
    return value;
  }

  std::vector<std::pair<std::string, text_template>> header_map(const YAML::Node& node, const char* what) {
    auto m = file_.mapping(node, what);
    std::vector<std::pair<std::string, text_template>> out;
    for (const auto& entry : node) {
      const std::string name = file_.string(entry.first, "header name");
      if (name.empty() || name.find_first_of(" :\t\r\n") != std::string::npos)
        file_.fail(entry.first, "invalid header name '" + name + "'");
      m.optional(name);
      out.emplace_back(name, header_value(name, entry.second));
    }
    return out;
  }

  void defaults(const YAML::Node& node) {
    auto m = file_.mapping(node, "defaults");
    if (auto n = m.optional("timeout")) suite_.timeout = positive_duration(*n, "defaults.timeout");
    if (auto n = m.optional("headers")) {
      for (auto& [name, value] : header_map(*n, "defaults.headers")) {
        if (!value.is_literal()) file_.fail(*n, "defaults.headers cannot use captures");
        suite_.default_headers.emplace_back(name, value.render({}));
      }
    }
    m.finish();
  }

  http_version version(const YAML::Node& n) const {
    http_version v{};
    const std::string text = file_.string(n, "http_version");
    if (!parse_http_version(text, v))
      file_.fail(n, "http_version must be auto, \"1.1\" or \"2\", got '" + text + "'");
    return v;
  }

  nanoseconds positive_duration(const YAML::Node& n, std::string_view what) const {
    const auto d = file_.duration(n, what);
    if (d <= nanoseconds::zero()) file_.fail(n, std::string(what) + " must be greater than zero");
    return d;
  }

  static bool valid_method(const std::string& m) {
    if (m.empty()) return false;
    for (char c : m)
      if (!std::isupper(static_cast<unsigned char>(c))) return false;
    return true;
  }

  void validate_path(const YAML::Node& node, const std::string& text_value) const {
    if (!(text_value.starts_with("/") || text_value.starts_with("http://") ||
          text_value.starts_with("https://") || text_value.starts_with("${")))
      file_.fail(
          node, "request path must start with '/' (or be an absolute http(s) URL), got '" + text_value + "'");
  }

  request_template request(const YAML::Node& node) {
    request_template r;
    if (node.IsScalar()) {  // "GET /path"
      const std::string t = node.Scalar();
      const auto space = t.find(' ');
      if (space == std::string::npos)
        file_.fail(node, "request must be 'METHOD /path' (e.g. GET /health) or a mapping, got '" + t + "'");
      r.method = t.substr(0, space);
      std::string rest = t.substr(space + 1);
      while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
      validate_path(node, rest);
      r.path = scope_.expand(file_, node, "request");
      // The expansion covered "METHOD path": drop the method prefix from the first literal.
      auto& first = std::get<std::string>(r.path.parts.front());
      first.erase(0, first.find_first_not_of(' ', space));
      if (first.empty()) r.path.parts.erase(r.path.parts.begin());
    } else {
      auto m = file_.mapping(node, "request");
      if (auto n = m.optional("method")) r.method = file_.string(*n, "request.method");
      const YAML::Node p = m.required("path");
      validate_path(p, file_.string(p, "request.path"));
      r.path = scope_.expand(file_, p, "request.path");
      if (auto n = m.optional("headers")) r.headers = header_map(*n, "request.headers");
      if (auto n = m.optional("body")) r.body = scope_.expand(file_, *n, "request.body");
      m.finish();
    }
    if (!valid_method(r.method))
      file_.fail(node, "request method must be upper-case letters like GET, got '" + r.method + "'");
    return r;
  }

  std::vector<capture_rule> captures(const YAML::Node& node) {
    auto m = file_.mapping(node, "capture");
    std::vector<capture_rule> out;
    for (const auto& entry : node) {
      capture_rule c;
      c.name = file_.string(entry.first, "capture name");
      m.optional(c.name);
      bool valid = !c.name.empty();
      for (char ch : c.name) valid = valid && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
      if (!valid)
        file_.fail(entry.first, "capture name must be letters, digits and '_', got '" + c.name + "'");
      if (scope_.is_capture(c.name))
        file_.fail(entry.first, "capture '" + c.name + "' is already declared by an earlier check");
      const YAML::Node& spec = entry.second;
      if (spec.IsScalar()) {  // shorthand: a JSONPath
        c.path = jsonpath_at(spec);
      } else {
        auto s = file_.mapping(spec, "capture " + c.name);
        int sources = 0;
        if (auto n = s.optional("json")) {
          ++sources;
          c.path = jsonpath_at(*n);
        }
        if (auto n = s.optional("header")) {
          ++sources;
          c.from = capture_rule::source::header;
          c.header = file_.string(*n, "capture header");
        }
        if (auto n = s.optional("regex")) {
          ++sources;
          c.from = capture_rule::source::regex;
          std::string error;
          auto p = pattern::compile(scope_.expand_now(file_, *n, "capture regex"), error);
          if (!p) file_.fail(*n, "capture " + c.name + ": " + error);
          c.regex = *p;
        }
        if (auto n = s.optional("secret")) c.secret = file_.boolean(*n, "secret");
        s.finish();
        if (sources != 1)
          file_.fail(spec, "capture " + c.name + " needs exactly one of: json, header, regex");
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  jsonpath jsonpath_at(const YAML::Node& n) const {
    std::string error;
    auto p = parse_jsonpath(file_.string(n, "JSONPath"), error);
    if (!p) file_.fail(n, error);
    return *p;
  }

  check check_item(const YAML::Node& node) {
    check c;
    auto m = file_.mapping(node, "check");
    if (auto n = m.optional("name")) c.name = file_.string(*n, "check name");
    c.request = request(m.required("request"));
    if (auto n = m.optional("expect")) c.expect = parse_expectation(file_, *n, scope_);
    if (auto n = m.optional("retries")) {
      const auto r = file_.integer(*n, "retries");
      if (r < 0 || r > 100) file_.fail(*n, "retries must be 0..100");
      c.retries = static_cast<int>(r);
    }
    if (auto n = m.optional("retry_interval")) c.retry_interval = file_.duration(*n, "retry_interval");
    if (auto n = m.optional("timeout")) c.timeout = positive_duration(*n, "timeout");
    if (auto n = m.optional("http_version")) c.version = version(*n);
    std::optional<YAML::Node> capture_node = m.optional("capture");
    m.finish();
    if (capture_node) c.captures = captures(*capture_node);
    // Declared after the check itself was read: a check cannot use its own captures.
    for (const auto& cap : c.captures) scope_.declare_capture(cap.name);

    c.needs = c.request.path.captures_used();
    c.needs.merge(c.request.body.captures_used());
    for (const auto& [name, value] : c.request.headers) c.needs.merge(value.captures_used());
    c.needs.merge(c.expect.captures_used());
    if (c.name.empty()) {
      std::string p;
      for (const auto& part : c.request.path.parts)
        p += std::holds_alternative<std::string>(part)
                 ? std::get<std::string>(part)
                 : "${" + std::get<text_template::capture_ref>(part).name + "}";
      c.name = c.request.method + " " + p;
    }
    return c;
  }

  const config_file& file_;
  suite& suite_;
  variable_scope scope_;
};

}  // namespace

suite parse_suite(const config_file& file, const std::map<std::string, std::string>& vars) {
  suite s;
  suite_parser(file, vars, s).parse();
  return s;
}

suite load_suite(const std::string& path, const std::map<std::string, std::string>& vars) {
  return parse_suite(config_file::load(path), vars);
}

std::variant<url, url_error> resolve_check_url(const std::string& base_url, const std::string& path) {
  if (path.starts_with("http://") || path.starts_with("https://")) return parse_url(path);
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return parse_url(base + path);
}

}  // namespace watchpost::probes
