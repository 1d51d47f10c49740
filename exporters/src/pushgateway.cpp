#include "watchpost/exporters/pushgateway.hpp"

#include <openssl/evp.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "watchpost/exporters/prometheus_text.hpp"
#include "watchpost/probes/http_client.hpp"

namespace watchpost::exporters {

namespace pm = prometheus;

namespace {

// Pushgateway grouping values travel in the URL path; "<name>@base64/<base64url>" carries any
// value (slashes in target URLs, empty strings) intact. An empty value is spelled "=".
std::string base64url(std::string_view value) {
  if (value.empty()) return "=";
  std::string out(4 * ((value.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

// Label values: redacted, valid UTF-8 (the gateway rejects anything else), and a URL's query
// string dropped (it is where tokens hide, and it makes labels unbounded).
std::string label(const probes::redactor& redact, std::string_view text) {
  return valid_utf8(redact(text.substr(0, text.find('?'))));
}

// Loopback answers in tens of microseconds, Internet targets in hundreds of milliseconds; the
// agent's /metrics uses the same boundaries, so dashboards aggregate both sources.
const pm::Histogram::BucketBoundaries& probe_duration_buckets() {
  static const pm::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  return buckets;
}

const pm::Histogram::BucketBoundaries& load_duration_buckets() {
  static const pm::Histogram::BucketBoundaries buckets{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
  return buckets;
}

// Phases that did not happen (reused connection, plain HTTP) are not observed; total always is.
void observe_phases(const std::array<pm::Histogram*, probe_phases.size()>& histograms,
                    const probes::phase_timings& t) {
  const nanoseconds phases[] = {t.resolve, t.connect, t.tls, t.ttfb, t.transfer, t.total};
  static_assert(std::size(phases) == probe_phases.size());
  for (std::size_t i = 0; i < std::size(phases); ++i)
    if (phases[i] > nanoseconds{0} || i + 1 == std::size(phases))
      histograms[i]->Observe(to_seconds(phases[i]));
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

push_group target_metrics(const std::string& suite, const target_run& run, const probes::redactor& redact) {
  push_group group{{{"suite", suite}, {"instance", label(redact, run.target)}},
                   std::make_shared<pm::Registry>()};
  auto& registry = *group.registry;
  const std::string target = group.grouping["instance"];
  // Help texts as on the agent's /metrics: one family reads the same wherever it is scraped from.
  auto& success = pm::BuildGauge()
                      .Name("watchpost_probe_success")
                      .Help("1 if the last probe of the check succeeded")
                      .Register(registry);
  if (!run.result) {
    success.Add({{"target", target}, {"check", "target is ready"}}).Set(0);
    return group;
  }
  auto& total = pm::BuildCounter().Name("watchpost_probe_total").Help("Probes by result").Register(registry);
  auto& duration = pm::BuildHistogram()
                       .Name("watchpost_probe_duration_seconds")
                       .Help("Probe duration by phase")
                       .Register(registry);
  std::array<pm::Histogram*, probe_phases.size()> phases{};
  for (std::size_t i = 0; i < probe_phases.size(); ++i)
    phases[i] = &duration.Add({{"target", target}, {"phase", std::string(probe_phases[i])}},
                              probe_duration_buckets());

  std::optional<std::chrono::system_clock::time_point> cert_expiry;
  for (const auto& c : run.result->checks) {
    if (c.skipped) continue;
    const pm::Labels check{{"target", target}, {"check", label(redact, c.name)}};
    success.Add(check).Set(c.passed() ? 1 : 0);
    for (auto result : probe_results) {
      pm::Labels labels = check;
      labels.emplace("result", result);
      auto& counter = total.Add(labels);
      if (result == probes::metric_result(c.kind)) counter.Increment();
    }
    observe_phases(phases, c.response.timings);
    if (const auto& expiry = c.response.tls.cert_not_after;
        expiry && (!cert_expiry || *expiry < *cert_expiry))
      cert_expiry = expiry;
  }
  if (cert_expiry)
    pm::BuildGauge()
        .Name("watchpost_tls_cert_expiry_timestamp_seconds")
        .Help("notAfter of the peer certificate (Unix time)")
        .Register(registry)
        .Add({{"target", target}})
        .Set(unix_seconds(*cert_expiry));
  return group;
}

// A Prometheus histogram from an HDR one: a sample counts in every `le` bucket whose bound is
// at or above the lower edge of its HDR bucket, so a count is off by at most the 0.78% bucket width.
void observe_hdr(pm::Histogram& out, const stats::histogram& h,
                 const pm::Histogram::BucketBoundaries& bounds) {
  std::vector<double> increments;
  std::uint64_t below = 0;
  for (double bound : bounds) {
    const auto at_or_below = h.count_at_or_below(static_cast<std::int64_t>(bound * 1e9));
    increments.push_back(static_cast<double>(at_or_below - below));
    below = at_or_below;
  }
  increments.push_back(static_cast<double>(h.count() - below));
  out.ObserveMultiple(increments, h.mean() * static_cast<double>(h.count()) / 1e9);
}

}  // namespace

std::variant<probes::url, probes::url_error> parse_gateway_url(std::string_view text) {
  auto parsed = probes::parse_url(text);
  if (auto* u = std::get_if<probes::url>(&parsed); u && u->target.find('?') != std::string::npos)
    return probes::url_error{"Pushgateway URL '" + std::string(text) + "' must not have a query"};
  return parsed;
}

push_outcome push_to_gateway(const probes::url& gateway, std::string_view job,
                             const std::vector<push_group>& groups, const push_options& options) {
  const std::string where = "Pushgateway " + gateway.to_string();
  std::string prefix = gateway.target;  // a gateway behind a reverse proxy path
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  const auto deadline = monotonic_clock::now() + options.timeout;
  for (const auto& g : groups) {
    probes::request req;
    req.method = "PUT";  // replaces this group, and only this group
    req.target = gateway;
    req.target.target = prefix + "/metrics/job/" + std::string(job);
    for (const auto& [name, value] : g.grouping)
      req.target.target += "/" + name + "@base64/" + base64url(value);
    req.headers.push_back({"Content-Type", "text/plain; version=0.0.4"});
    exporters::append_prometheus_text(req.body, g.registry->Collect());
    probes::client_options client;
    client.tls = options.tls;
    client.total_timeout = std::max(nanoseconds{1}, deadline - monotonic_clock::now());
    client.connect_timeout = client.tls_timeout = client.total_timeout;
    client.max_body_bytes = 64 * 1024;
    probes::result res;
    try {
      res = probes::fetch(req, client);
    } catch (const std::exception& e) {  // an unreadable --ca-file
      return {false, where + ": " + e.what()};
    }
    // The client's timeout message would name this request's share of the budget, not the budget.
    if (res.failure == probes::failure_kind::timeout || res.failure == probes::failure_kind::connect_timeout)
      return {false, where + " did not answer within " + format_duration(options.timeout)};
    if (!res.ok()) return {false, where + ": " + res.error};
    if (res.status < 200 || res.status > 299) {
      // The gateway says why in the body's first line ("pushed metrics are invalid or inconsistent ...").
      std::string why = valid_utf8(res.body.substr(0, std::min(res.body.find('\n'), std::size_t{200})));
      return {false,
              where + " answered HTTP " + std::to_string(res.status) + (why.empty() ? "" : ": " + why)};
    }
  }
  return {true, {}};
}

std::vector<push_group> suite_run_metrics(const suite_run& run, const probes::redactor& redact) {
  std::vector<push_group> groups;
  const std::string suite = label(redact, run.suite_name);
  for (const auto& t : run.targets) groups.push_back(target_metrics(suite, t, redact));
  return groups;
}

push_outcome push_suite_run(const probes::url& gateway, const suite_run& run, const probes::redactor& redact,
                            const push_options& options) {
  return push_to_gateway(gateway, smoke_push_job, suite_run_metrics(run, redact), options);
}

push_group load_run_metrics(const loadgen::load_result& r,
                            const std::vector<loadgen::threshold_outcome>& outcomes) {
  const auto& p = r.parameters;
  const std::string target = label(probes::redactor{}, p.target);
  push_group group{{{"instance", target},
                    {"shard", std::to_string(p.shard_index + 1) + "/" + std::to_string(p.shard_count)}},
                   std::make_shared<pm::Registry>()};
  auto& registry = *group.registry;
  const pm::Labels base{{"target", target}};
  auto with = [&](const char* name, std::string value) {
    pm::Labels labels = base;
    labels.emplace(name, std::move(value));
    return labels;
  };

  std::map<std::string_view, std::uint64_t> by_result;
  for (auto result : probe_results) by_result[result] = 0;
  by_result["ok"] = r.totals.requests - r.totals.errors;
  for (auto kind : probes::all_failure_kinds)
    by_result[probes::metric_result(kind)] += r.totals.errors_by_kind[static_cast<std::size_t>(kind)];
  auto& requests = pm::BuildCounter()
                       .Name("watchpost_load_requests_total")
                       .Help("Requests of the load run by result")
                       .Register(registry);
  for (const auto& [result, n] : by_result)
    requests.Add(with("result", std::string(result))).Increment(static_cast<double>(n));

  // What never became a request: a gate reading only requests_total would miss a stalled server.
  for (auto [name, help, n] :
       {std::tuple{"watchpost_load_dropped_total",
                   "Open model: scheduled sends dropped because no connection was free", r.totals.dropped},
        {"watchpost_load_reconnects_total",
         "Idle keep-alive connections the server closed, the request resent", r.totals.reconnects}})
    pm::BuildCounter().Name(name).Help(help).Register(registry).Add(base).Increment(static_cast<double>(n));
  pm::BuildGauge()
      .Name("watchpost_load_in_flight_at_end")
      .Help("Requests sent but unanswered (within their deadline) when the run ended")
      .Register(registry)
      .Add(base)
      .Set(static_cast<double>(r.totals.in_flight_at_end));

  auto& responses = pm::BuildCounter()
                        .Name("watchpost_load_responses_total")
                        .Help("Responses of the load run by status code")
                        .Register(registry);
  for (const auto& [code, n] : r.totals.status_counts)
    responses.Add(with("code", std::to_string(code))).Increment(static_cast<double>(n));

  auto& duration =
      pm::BuildHistogram()
          .Name("watchpost_load_duration_seconds")
          .Help("Request latency of the load run (from the intended send time in the open model)")
          .Register(registry);
  observe_hdr(duration.Add(base, load_duration_buckets()), r.latency, load_duration_buckets());
  auto& quantiles = pm::BuildGauge()
                        .Name("watchpost_load_duration_quantile_seconds")
                        .Help("Latency quantiles of the load run (HDR histogram, within 1%)")
                        .Register(registry);
  for (auto [name, q] : {std::pair{"0.5", 0.5}, {"0.9", 0.9}, {"0.99", 0.99}, {"0.999", 0.999}})
    quantiles.Add(with("quantile", name)).Set(static_cast<double>(r.latency.value_at_quantile(q)) / 1e9);

  pm::BuildGauge()
      .Name("watchpost_load_requests_per_second")
      .Help("Mean request rate of the load run")
      .Register(registry)
      .Add(base)
      .Set(r.rps());
  pm::BuildGauge()
      .Name("watchpost_load_elapsed_seconds")
      .Help("Wall time of the load run")
      .Register(registry)
      .Add(base)
      .Set(r.elapsed_seconds);

  std::map<std::string, bool> threshold_passed;  // a threshold holds when it held everywhere
  bool passed = true;
  for (const auto& o : outcomes) {
    auto [it, fresh] = threshold_passed.emplace(o.text, o.passed);
    if (!fresh) it->second = it->second && o.passed;
    passed = passed && o.passed;
  }
  auto& thresholds = pm::BuildGauge()
                         .Name("watchpost_load_threshold_passed")
                         .Help("1 if the threshold held")
                         .Register(registry);
  for (const auto& [text, ok] : threshold_passed) thresholds.Add(with("threshold", text)).Set(ok ? 1 : 0);
  pm::BuildGauge()
      .Name("watchpost_load_passed")
      .Help("1 if every threshold of the load run held")
      .Register(registry)
      .Add(base)
      .Set(passed ? 1 : 0);
  return group;
}

push_outcome push_load_run(const probes::url& gateway, const loadgen::load_result& result,
                           const std::vector<loadgen::threshold_outcome>& outcomes,
                           const push_options& options) {
  return push_to_gateway(gateway, load_push_job, {load_run_metrics(result, outcomes)}, options);
}

}  // namespace watchpost::exporters
