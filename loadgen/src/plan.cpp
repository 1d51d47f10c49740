#include "watchpost/loadgen/plan.hpp"

#include <charconv>
#include <filesystem>
#include <variant>

#include "watchpost/loadgen/threshold.hpp"
#include "watchpost/probes/check.hpp"
#include "watchpost/probes/redact.hpp"
#include "watchpost/probes/variables.hpp"

namespace watchpost::loadgen {

namespace {

probes::header_list read_headers(const config_file& file, const YAML::Node& node,
                                 const probes::variable_scope& scope) {
  if (!node.IsMap()) file.fail(node, "headers must be a mapping of name: value");
  probes::header_list out;
  for (const auto& kv : node) {
    std::string name = file.string(kv.first, "header name");
    std::string value = scope.expand_now(file, kv.second, "header value");
    if (name.empty() || name.find_first_of(" \t\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      file.fail(kv.first, "header '" + name + "' has an invalid name or a line break in its value");
    out.push_back({std::move(name), std::move(value)});
  }
  return out;
}

// The `expect:` block of suites (probes/check.hpp), so plans and suites share one syntax and
// one evaluation. ${env:NAME} expands; there are no captures in a load run.
probes::expectation read_expect(const config_file& file, const YAML::Node& node,
                                const probes::variable_scope& scope) {
  probes::expectation e = probes::parse_expectation(file, node, scope);
  if (e.tls)
    file.fail(node["tls"] ? node["tls"] : node, "load plans do not check tls: rules; use watchpost smoke");
  return e;
}

// "1%", "0.5%", "100%": the share of responses whose non-status rules are checked.
double read_sample(const config_file& file, const YAML::Node& node) {
  const std::string text = file.string(node, "sample");
  double percent = 0;
  const char* b = text.data();
  const char* e = text.data() + text.size();
  auto [p, ec] = std::from_chars(b, e, percent);
  if (ec != std::errc{} || p == b || e - p != 1 || *p != '%' || !(percent > 0) || percent > 100)
    file.fail(node, "sample must be a percentage in (0%, 100%], e.g. 1%");
  return percent / 100;
}

planned_request read_request(const config_file& file, const YAML::Node& node,
                             const probes::header_list& common, const probes::variable_scope& scope) {
  auto m = file.mapping(node, "request");
  planned_request r;
  if (auto n = m.optional("name")) r.name = file.string(*n, "name");
  if (auto n = m.optional("method")) {
    r.method = file.string(*n, "method");
    if (r.method.empty() || r.method.find_first_of(" \t\r\n") != std::string::npos)
      file.fail(*n, "invalid method");
  }
  if (auto n = m.optional("path")) {
    r.target = file.string(*n, "path");
    if (r.target.empty() || r.target[0] != '/' || r.target.find_first_of(" \r\n") != std::string::npos)
      file.fail(*n, "path must start with / and contain no spaces");
  }
  r.headers = common;
  if (auto n = m.optional("headers")) {
    for (auto& h : read_headers(file, *n, scope)) r.headers.push_back(std::move(h));
  }
  if (auto n = m.optional("body")) r.body = file.string(*n, "body");
  if (auto n = m.optional("weight")) {
    r.weight = file.number(*n, "weight");
    if (!(r.weight > 0)) file.fail(*n, "weight must be > 0");
  }
  if (auto n = m.optional("expect")) r.expect = read_expect(file, *n, scope);
  if (auto n = m.optional("sample")) {
    if (!r.expect) file.fail(*n, "sample needs an expect: block to sample");
    r.sample = read_sample(file, *n);
  }
  m.finish();
  return r;
}

}  // namespace

std::optional<stage> parse_stage(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto d = parse_duration(std::string_view(text).substr(0, colon));
  double target = 0;
  const char* b = text.data() + colon + 1;
  const char* e = text.data() + text.size();
  auto [p, ec] = std::from_chars(b, e, target);
  if (!d || *d <= nanoseconds{0} || ec != std::errc{} || p != e || b == e || target < 0) return std::nullopt;
  return stage{*d, target};
}

load_plan parse_load_plan(const config_file& file) {
  load_plan plan;
  auto m = file.mapping(file.root(), "load plan");
  for (const auto& kv : file.root()) {
    const auto mark = kv.second.Mark();  // the value, as the parser's own errors
    plan.where[kv.first.Scalar()] =
        file.path() + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  if (auto n = m.optional("url")) plan.url = file.string(*n, "url");
  if (auto n = m.optional("connections")) {
    const auto v = file.integer(*n, "connections");
    if (v < 1 || v > 1'000'000) file.fail(*n, "connections must be 1..1000000");
    plan.connections = static_cast<std::uint64_t>(v);
  }
  if (auto n = m.optional("threads")) {
    const auto v = file.integer(*n, "threads");
    if (v < 1 || v > 1024) file.fail(*n, "threads must be 1..1024");
    plan.threads = static_cast<unsigned>(v);
  }
  if (auto n = m.optional("duration")) plan.duration = file.duration(*n, "duration");
  if (auto n = m.optional("count")) {
    const auto v = file.integer(*n, "count");
    if (v < 1) file.fail(*n, "count must be >= 1");
    plan.count = static_cast<std::uint64_t>(v);
  }
  if (auto n = m.optional("rate")) {
    plan.rate = file.number(*n, "rate");
    if (!(*plan.rate > 0)) file.fail(*n, "rate must be > 0");
  }
  if (auto n = m.optional("stages")) {
    for (const auto& s : file.sequence(*n, "stages")) {
      auto sm = file.mapping(s, "stage");
      stage st;
      auto dn = sm.required("duration");
      st.duration = file.duration(dn, "duration");
      if (st.duration <= nanoseconds{0}) file.fail(dn, "stage duration must be > 0");
      auto tn = sm.required("target");
      st.target = file.number(tn, "target");
      if (st.target < 0) file.fail(tn, "stage target must be >= 0");
      sm.finish();
      plan.stages.push_back(st);
    }
  }
  if (auto n = m.optional("timeout")) plan.timeout = file.duration(*n, "timeout");
  if (auto n = m.optional("insecure")) plan.insecure = file.boolean(*n, "insecure");
  if (auto n = m.optional("ca_file")) {
    const std::filesystem::path ca = file.string(*n, "ca_file");
    if (ca.empty()) file.fail(*n, "ca_file must name a PEM file");
    plan.ca_file = (ca.is_absolute() ? ca : std::filesystem::path(file.path()).parent_path() / ca).string();
  }
  if (auto n = m.optional("thresholds")) {
    for (const auto& t : file.sequence(*n, "thresholds")) {
      std::string text = file.string(t, "threshold");
      auto parsed = parse_threshold(text);
      if (auto* err = std::get_if<threshold_error>(&parsed)) file.fail(t, err->message);
      plan.thresholds.push_back(std::move(text));
    }
  }
  const probes::variable_scope scope({}, plan.secrets);
  probes::header_list common;
  if (auto n = m.optional("headers")) common = read_headers(file, *n, scope);
  if (auto n = m.optional("requests")) {
    for (const auto& r : file.sequence(*n, "requests"))
      plan.requests.push_back(read_request(file, r, common, scope));
    if (plan.requests.empty()) file.fail(*n, "requests must list at least one request");
  } else if (!common.empty()) {
    planned_request r;
    r.target = "";  // filled from the url by the command
    r.headers = common;
    plan.requests.push_back(r);
  }
  m.finish();
  return plan;
}

load_plan load_plan_file(const std::string& path) { return parse_load_plan(config_file::load(path)); }

}  // namespace watchpost::loadgen
