#include "watchpost/agent/config.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "config_labels.hpp"
#include "watchpost/common/config_file.hpp"
#include "watchpost/probes/variables.hpp"

namespace watchpost::agent {

std::string window_label(nanoseconds d) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(d).count();
  struct unit {
    std::int64_t ms;
    const char* suffix;
  };
  for (unit u : {unit{86'400'000, "d"}, unit{3'600'000, "h"}, unit{60'000, "m"}, unit{1000, "s"}})
    if (ms >= u.ms && ms % u.ms == 0) return std::to_string(ms / u.ms) + u.suffix;
  return std::to_string(ms) + "ms";
}

namespace {

// Replaces every ${env:NAME}; an unset variable is a config error (a silently empty secret
// would send unsigned webhooks). `secrets`, when given, receives each value for masking.
std::string resolve_env(const config_file& file, const YAML::Node& at, const std::string& text,
                        probes::redactor* secrets = nullptr) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto start = text.find("${env:", pos);
    if (start == std::string::npos) break;
    const auto end = text.find('}', start);
    if (end == std::string::npos) file.fail(at, "unterminated ${env:...} reference");
    const std::string name = text.substr(start + 6, end - start - 6);
    const char* value = std::getenv(name.c_str());
    if (name.empty() || !value) file.fail(at, "environment variable '" + name + "' is not set");
    if (secrets) secrets->add(value);
    out.append(text, pos, start - pos).append(value);
    pos = end + 1;
  }
  return out.append(text, pos);
}

probes::url url_value(const config_file& file, const YAML::Node& node, std::string_view what,
                      probes::redactor* secrets = nullptr) {
  const std::string text = resolve_env(file, node, file.string(node, what), secrets);
  auto parsed = probes::parse_url(text);
  if (auto* err = std::get_if<probes::url_error>(&parsed))
    file.fail(node, std::string(what) + ": " + err->message);
  return std::get<probes::url>(parsed);
}

nanoseconds positive_duration(const config_file& file, const YAML::Node& node, std::string_view what) {
  const nanoseconds d = file.duration(node, what);
  if (d <= nanoseconds{0}) file.fail(node, std::string(what) + " must be greater than zero");
  return d;
}

double objective(const config_file& file, const YAML::Node& node, std::string_view what) {
  const double r = file.ratio(node, what);
  if (!(r > 0.0 && r < 1.0)) file.fail(node, std::string(what) + " must be between 0% and 100% (exclusive)");
  return r;
}

slo_config parse_slo(const config_file& file, const YAML::Node& node) {
  slo_config out;
  auto m = file.mapping(node, "slo");
  if (auto n = m.optional("availability")) out.availability = objective(file, *n, "slo.availability");
  if (auto n = m.optional("error_rate")) out.error_rate = objective(file, *n, "slo.error_rate");
  if (auto n = m.optional("latency")) {
    auto lat = file.mapping(*n, "slo.latency");
    int found = 0;
    for (int q : {50, 90, 95, 99}) {
      const std::string key = "p" + std::to_string(q);
      if (auto b = lat.optional(key)) {
        out.latency_quantile = q / 100.0;
        out.latency_bound = positive_duration(file, *b, "slo.latency." + key);
        ++found;
      }
    }
    lat.finish();
    if (found != 1) file.fail(*n, "slo.latency must have exactly one of p50, p90, p95, p99");
  }
  if (auto n = m.optional("window")) out.window = positive_duration(file, *n, "slo.window");
  if (auto n = m.optional("min_requests")) {
    const auto v = file.integer(*n, "slo.min_requests");
    if (v < 0) file.fail(*n, "slo.min_requests must be >= 0");
    out.min_requests = static_cast<std::uint64_t>(v);
  }
  if (auto n = m.optional("burn_alerts")) {
    for (const auto& item : file.sequence(*n, "slo.burn_alerts")) {
      auto a = file.mapping(item, "burn alert");
      burn_alert alert;
      alert.long_window = positive_duration(file, a.required("long"), "burn alert 'long'");
      alert.short_window = positive_duration(file, a.required("short"), "burn alert 'short'");
      const YAML::Node factor = a.required("factor");
      alert.factor = file.number(factor, "burn alert 'factor'");
      a.finish();
      if (alert.factor <= 0) file.fail(factor, "burn alert 'factor' must be greater than zero");
      if (alert.short_window > alert.long_window)
        file.fail(item, "burn alert 'short' must not exceed 'long'");
      if (alert.long_window > out.window) file.fail(item, "burn alert 'long' must not exceed slo.window");
      out.burn_alerts.push_back(alert);
    }
  } else {
    // The multi-window, multi-burn-rate pair from the Google SRE workbook.
    using std::chrono::hours, std::chrono::minutes;
    for (burn_alert a : {burn_alert{hours(1), minutes(5), 14.4}, burn_alert{hours(6), minutes(30), 6.0}})
      if (a.long_window <= out.window) out.burn_alerts.push_back(a);
  }
  m.finish();
  if (out.empty()) file.fail(node, "slo needs at least one of availability, latency, error_rate");
  if (out.burn_alerts.empty()) file.fail(node, "slo needs burn_alerts whose windows fit in slo.window");
  if (const auto ring = burn_ring_for(out.burn_alerts); ring.slots > max_burn_ring_slots)
    file.fail(m.optional("burn_alerts") ? *m.optional("burn_alerts") : node,
              "slo.burn_alerts span too wide a range: their shortest 'short' and longest 'long' need " +
                  std::to_string(ring.slots) + " slices per target (at most " +
                  std::to_string(max_burn_ring_slots) +
                  "); keep the longest 'long' within 1,000x the shortest 'short'");
  return out;
}

webhook_config parse_webhook(const config_file& file, const YAML::Node& node) {
  webhook_config out;
  auto m = file.mapping(node, "on_breach entry");
  out.url = url_value(file, m.required("webhook"), "webhook");
  if (auto n = m.optional("secret")) out.secret = resolve_env(file, *n, file.string(*n, "secret"));
  if (auto n = m.optional("cooldown")) out.cooldown = file.duration(*n, "cooldown");
  if (auto n = m.optional("timeout")) out.timeout = positive_duration(file, *n, "timeout");
  if (auto n = m.optional("collapse_resolved_pairs"))
    out.collapse_resolved_pairs = file.boolean(*n, "collapse_resolved_pairs");
  m.finish();
  return out;
}

// A path in the config, relative to the config file's directory.
std::filesystem::path config_relative(const config_file& file, const std::string& text) {
  std::filesystem::path path = text;
  return path.is_relative() ? std::filesystem::path(file.path()).parent_path() / path : path;
}

std::string existing_file(const config_file& file, const YAML::Node& node, std::string_view what) {
  const auto path = config_relative(file, file.string(node, what));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    file.fail(node, "cannot open " + std::string(what) + " '" + path.string() + "'");
  return path.string();
}

// Loads the suite (relative paths are relative to the agent config's directory); its own
// errors name the suite file, line and column. The target's `timeout:` replaces the suite's
// defaults.timeout and caps every check's own: the operator's bound on one probe holds.
void load_target_suite(const config_file& file, const YAML::Node& node, const std::string& url_text,
                       std::optional<nanoseconds> timeout, target_config& out) {
  const std::string path = existing_file(file, node, "suite file");
  auto loaded = std::make_shared<probes::suite>(probes::load_suite(path, {}));
  if (timeout) {
    loaded->timeout = *timeout;
    for (auto& check : loaded->checks)
      if (check.timeout) check.timeout = std::min(*check.timeout, *timeout);
  }
  out.suite_base_url = url_text.empty() ? loaded->base_url : resolve_env(file, node, url_text);
  if (out.suite_base_url.empty()) file.fail(node, "suite target needs url: (the suite has no base_url)");
  if (url_text.empty()) {
    auto parsed = probes::parse_url(out.suite_base_url);
    if (auto* u = std::get_if<probes::url>(&parsed)) out.request.target = *u;
  }
  if (loaded->checks.empty()) file.fail(node, "suite '" + path + "' has no checks");
  out.suite = std::move(loaded);
}

// A single probe's expect: in the suites' language (probes/check.hpp). ${env:NAME} expands
// into `secrets`; a single request has no captures.
probes::expectation parse_expect(const config_file& file, const YAML::Node& node, bool plain_http,
                                 probes::redactor& secrets) {
  const probes::variable_scope scope({}, secrets);
  probes::expectation e = probes::parse_expectation(file, node, scope);
  if (e.tls && plain_http)
    file.fail(node["tls"], "expect.tls needs an https:// url (a plain request has no TLS to check)");
  return e;
}

target_config parse_target(const config_file& file, const YAML::Node& node,
                           const std::map<std::string, std::string>& agent_labels) {
  target_config out;
  auto secrets = std::make_shared<probes::redactor>();
  auto m = file.mapping(node, "target");
  const YAML::Node name = m.required("name");
  out.name = file.string(name, "target name");
  if (out.name.empty() || out.name.size() > 128 || out.name.find_first_of("\"\\\n\r\t/") != std::string::npos)
    file.fail(name, "target name must be 1..128 characters without quotes, slashes or control characters");
  const auto url_node = m.optional("url");
  if (url_node) out.request.target = url_value(file, *url_node, "url", secrets.get());
  const auto method_node = m.optional("method");
  if (method_node) out.request.method = file.string(*method_node, "method");
  const auto headers_node = m.optional("headers");
  if (headers_node) {
    if (!headers_node->IsMap()) file.fail(*headers_node, "headers must be a mapping of Name: value");
    for (const auto& h : *headers_node)
      out.request.headers.push_back(
          {file.string(h.first, "header name"),
           resolve_env(file, h.second, file.string(h.second, "header value"), secrets.get())});
    for (const auto& h : out.request.headers)
      if (probes::is_credential_header(h.name)) secrets->add_credential_header(h.value);
  }
  if (auto n = m.optional("interval")) out.interval = positive_duration(file, *n, "interval");
  out.jitter = out.interval / 10;
  if (auto n = m.optional("jitter")) {
    out.jitter = file.duration(*n, "jitter");
    if (out.jitter >= out.interval) file.fail(*n, "jitter must be smaller than interval");
  }
  std::optional<nanoseconds> timeout;
  if (auto n = m.optional("timeout")) out.timeout = *(timeout = positive_duration(file, *n, "timeout"));
  if (auto n = m.optional("keep_alive")) out.keep_alive = file.boolean(*n, "keep_alive");
  if (auto n = m.optional("insecure")) out.insecure = file.boolean(*n, "insecure");
  const auto expect_node = m.optional("expect");
  if (expect_node)
    out.expect = parse_expect(file, *expect_node, url_node && !out.request.target.tls, *secrets);
  if (auto n = m.optional("suite")) {
    // Each check of a suite has its own request: a target-level one would be silently ignored.
    if (expect_node)
      file.fail(*expect_node, "expect: is for single probes; a suite's checks carry their own");
    if (method_node)
      file.fail(*method_node, "method: is for single probes; a suite's checks carry their own");
    if (headers_node)
      file.fail(*headers_node, "headers: is for single probes; put them in the suite's defaults.headers");
    load_target_suite(file, *n, url_node ? file.string(*url_node, "url") : "", timeout, out);
  } else if (!url_node) {
    file.fail(node, "target needs url: (or suite:)");
  }
  const auto labels_node = m.optional("labels");
  out.labels =
      merge_labels(file, labels_node ? *labels_node : node, agent_labels,
                   labels_node ? parse_labels(file, *labels_node, "target labels") : decltype(out.labels){});
  if (auto n = m.optional("slo")) out.slo = parse_slo(file, *n);
  if (auto n = m.optional("on_breach")) {
    for (const auto& item : file.sequence(*n, "on_breach")) {
      out.on_breach.push_back(parse_webhook(file, item));
      // The URL is the hook's identity in the outbox and the SLO state (stable across reloads).
      for (std::size_t i = 0; i + 1 < out.on_breach.size(); ++i)
        if (out.on_breach[i].url.to_string() == out.on_breach.back().url.to_string())
          file.fail(item, "duplicate on_breach webhook URL");
    }
    if (out.slo.empty() && !out.on_breach.empty())
      file.fail(*n, "on_breach needs an slo: on the same target");
  }
  m.finish();
  out.secrets = std::move(secrets);
  return out;
}

void parse_listen(const config_file& file, const YAML::Node& node, agent_config& out) {
  const std::string text = file.string(node, "listen");
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    file.fail(node, "listen must be host:port, e.g. 127.0.0.1:9464");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = text.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) file.fail(node, "listen port must be 0..65535");
  out.listen_host = host;
  out.listen_port = static_cast<std::uint16_t>(p);
}

// listen_basic_auth: { user: prometheus, password: ${env:NAME} }
// listen_tls: { cert: server.crt, key: server.key }
void parse_listen_security(const config_file& file, mapping_reader& m, listen_protection& out) {
  if (auto n = m.optional("listen_basic_auth")) {
    auto a = file.mapping(*n, "listen_basic_auth");
    const YAML::Node user = a.required("user");
    out.user = file.string(user, "listen_basic_auth.user");
    const YAML::Node password = a.required("password");
    out.password = resolve_env(file, password, file.string(password, "listen_basic_auth.password"));
    a.finish();
    if (out.user.empty() || out.user.find(':') != std::string::npos)
      file.fail(user, "listen_basic_auth.user must be non-empty and without ':'");
    if (out.password.empty()) file.fail(password, "listen_basic_auth.password must not be empty");
  }
  if (auto n = m.optional("listen_tls")) {
    auto t = file.mapping(*n, "listen_tls");
    out.tls_cert = existing_file(file, t.required("cert"), "listen_tls.cert");
    out.tls_key = existing_file(file, t.required("key"), "listen_tls.key");
    t.finish();
  }
}

dns_config parse_dns(const config_file& file, const YAML::Node& node) {
  dns_config out;
  auto m = file.mapping(node, "dns");
  if (auto n = m.optional("servers")) {
    for (const auto& item : file.sequence(*n, "dns.servers")) {
      out.servers.push_back(file.string(item, "dns server"));
      if (auto error = probes::dns_server_error(out.servers.back())) file.fail(item, *error);
    }
  }
  if (auto n = m.optional("cache_ttl")) {
    out.cache_ttl = file.duration(*n, "dns.cache_ttl");
    if (out.cache_ttl > std::chrono::hours(1)) file.fail(*n, "dns.cache_ttl must be 0..1h");
  }
  m.finish();
  return out;
}

// Resolved later (an auto/N ordinal comes from the pod running the config, not the file); its
// errors then name this position.
shard_spec parse_shard_key(const config_file& file, const YAML::Node& node) {
  auto parsed = parse_shard(file.string(node, "shard"));
  if (auto* error = std::get_if<std::string>(&parsed)) file.fail(node, "shard " + *error);
  auto spec = std::get<shard_spec>(std::move(parsed));
  const auto mark = node.Mark();
  spec.origin =
      file.path() + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": shard";
  return spec;
}

agent_config build(const config_file& file) {
  agent_config out;
  out.source = file.path();
  auto m = file.mapping(file.root(), "agent config");
  if (auto n = m.optional("listen")) parse_listen(file, *n, out);
  parse_listen_security(file, m, out.listen_security);
  if (auto n = m.optional("listen_max_connections")) {
    const auto c = file.integer(*n, "listen_max_connections");
    if (c < 1 || c > 1'000'000) file.fail(*n, "listen_max_connections must be 1..1000000");
    out.listen_max_connections = static_cast<int>(c);
  }
  if (auto n = m.optional("state_dir")) out.state_dir = file.string(*n, "state_dir");
  if (auto n = m.optional("agent_id")) out.agent_id = file.string(*n, "agent_id");
  if (auto n = m.optional("threads")) {
    const auto t = file.integer(*n, "threads");
    if (t < 1 || t > 256) file.fail(*n, "threads must be 1..256");
    out.threads = static_cast<int>(t);
  }
  if (auto n = m.optional("batch_window")) {
    out.batch_window = file.duration(*n, "batch_window");
    if (out.batch_window < nanoseconds{0} || out.batch_window > std::chrono::seconds(1))
      file.fail(*n, "batch_window must be 0..1s");
  }
  if (auto n = m.optional("dns")) out.dns = parse_dns(file, *n);
  if (auto n = m.optional("max_event_age")) out.max_event_age = positive_duration(file, *n, "max_event_age");
  if (auto n = m.optional("max_outbox_events")) {
    const auto v = file.integer(*n, "max_outbox_events");
    if (v < 1 || v > 10'000'000) file.fail(*n, "max_outbox_events must be 1..10000000");
    out.max_outbox_events = static_cast<std::size_t>(v);
  }
  if (auto n = m.optional("labels")) out.labels = parse_labels(file, *n, "labels");
  if (auto n = m.optional("shard")) out.shard = parse_shard_key(file, *n);
  const YAML::Node targets = m.required("targets");
  std::set<std::string> names;
  for (const auto& item : file.sequence(targets, "targets")) {
    out.targets.push_back(parse_target(file, item, out.labels));
    if (!names.insert(out.targets.back().name).second)
      file.fail(item, "duplicate target name '" + out.targets.back().name + "'");
  }
  m.finish();
  if (out.state_dir.empty()) file.fail(file.root(), "state_dir must not be empty");
  if (out.agent_id.empty()) {
    char host[256] = {};
    out.agent_id = gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "watchpost";
  }
  return out;
}

}  // namespace

agent_config load_config(const std::string& path) { return build(config_file::load(path)); }

burn_ring_geometry burn_ring_for(const std::vector<burn_alert>& alerts) {
  if (alerts.empty()) return {};
  nanoseconds shortest = alerts.front().short_window, longest{0};
  for (const auto& a : alerts) {
    shortest = std::min(shortest, a.short_window);
    longest = std::max(longest, a.long_window);
  }
  const nanoseconds slice = std::max<nanoseconds>(shortest / 4, std::chrono::milliseconds(100));
  return {slice, static_cast<std::size_t>(longest / slice) + 2};
}

agent_config parse_config(const std::string& yaml_text, const std::string& name) {
  return build(config_file::parse(yaml_text, name));
}

}  // namespace watchpost::agent
