#include "watchpost/agent/metrics.hpp"

#include <prometheus/text_serializer.h>

#include "watchpost/agent/slo.hpp"

namespace watchpost::agent {

namespace pm = prometheus;

namespace {
pm::Labels with(pm::Labels base, std::initializer_list<std::pair<const std::string, std::string>> more) {
  base.insert(more);
  return base;
}
}  // namespace

std::size_t result_index(probes::failure_kind kind) {
  const std::string_view label = probes::metric_result(kind);
  for (std::size_t i = 0; i < probe_results.size(); ++i)
    if (probe_results[i] == label) return i;
  return probe_results.size() - 1;  // an unknown kind is a protocol-level surprise
}

agent_metrics::agent_metrics()
    : registry_(std::make_shared<pm::Registry>()),
      success_(pm::BuildGauge()
                   .Name("watchpost_probe_success")
                   .Help("1 if the last probe of the check succeeded")
                   .Register(*registry_)),
      total_(pm::BuildCounter().Name("watchpost_probe_total").Help("Probes by result").Register(*registry_)),
      duration_(pm::BuildHistogram()
                    .Name("watchpost_probe_duration_seconds")
                    .Help("Probe duration by phase")
                    .Register(*registry_)),
      uptime_(pm::BuildGauge()
                  .Name("watchpost_uptime_ratio")
                  .Help("Fraction of successful probes over the window")
                  .Register(*registry_)),
      burn_(pm::BuildGauge()
                .Name("watchpost_slo_burn_rate")
                .Help("Error budget burn rate over the window")
                .Register(*registry_)),
      breached_(pm::BuildGauge()
                    .Name("watchpost_slo_breached")
                    .Help("1 while a burn-rate alert of the SLO holds")
                    .Register(*registry_)),
      budget_(pm::BuildGauge()
                  .Name("watchpost_slo_error_budget_remaining")
                  .Help("Fraction of the error budget left over the SLO window (negative when overspent)")
                  .Register(*registry_)),
      cert_(pm::BuildGauge()
                .Name("watchpost_tls_cert_expiry_timestamp_seconds")
                .Help("notAfter of the peer certificate (Unix time)")
                .Register(*registry_)),
      webhook_(
          pm::BuildCounter()
              .Name("watchpost_webhook_deliveries_total")
              .Help(
                  "Webhook deliveries by result: delivered, failed (attempt, retried), dead_letter, expired")
              .Register(*registry_)),
      skipped_(pm::BuildCounter()
                   .Name("watchpost_agent_probes_skipped_total")
                   .Help("Ticks skipped because the previous probe was still running")
                   .Register(*registry_)),
      shard_(pm::BuildGauge()
                 .Name("watchpost_agent_shard")
                 .Help("1 for the shard (index of count, 0-based) whose targets this agent probes")
                 .Register(*registry_)) {
  in_flight_ = &pm::BuildGauge()
                    .Name("watchpost_agent_probes_in_flight")
                    .Help("Probes currently running")
                    .Register(*registry_)
                    .Add({});
  lag_ = &pm::BuildGauge()
              .Name("watchpost_agent_scheduler_lag_seconds")
              .Help("Largest lateness of a probe start over the last few seconds")
              .Register(*registry_)
              .Add({});
  outbox_depth_ = &pm::BuildGauge()
                       .Name("watchpost_agent_outbox_depth")
                       .Help("Webhook events waiting for delivery")
                       .Register(*registry_)
                       .Add({});
  state_errors_ = &pm::BuildCounter()
                       .Name("watchpost_agent_state_write_errors_total")
                       .Help("Failed writes to state_dir (outbox or SLO snapshot)")
                       .Register(*registry_)
                       .Add({});
  auto& reloads = pm::BuildCounter()
                      .Name("watchpost_agent_config_reloads_total")
                      .Help("SIGHUP reloads by result")
                      .Register(*registry_);
  reload_ok_ = &reloads.Add({{"result", "ok"}});
  reload_failed_ = &reloads.Add({{"result", "rejected"}});
  auto& dropped = pm::BuildCounter()
                      .Name("watchpost_webhook_events_dropped_total")
                      .Help("Webhook events removed from the outbox unsent, by reason")
                      .Register(*registry_);
  for (std::size_t i = 0; i < drop_reasons.size(); ++i)
    dropped_[i] = &dropped.Add({{"reason", std::string(drop_reasons[i])}});
}

std::unique_ptr<target_metrics> agent_metrics::add_target(const target_config& target) {
  auto m = std::make_unique<target_metrics>();
  m->labels = pm::Labels(target.labels.begin(), target.labels.end());
  m->labels["target"] = target.name;  // config validation keeps user labels off this name
  const pm::Labels& base = m->labels;
  std::vector<std::string> check_names{"probe"};
  if (target.suite) {
    check_names.clear();
    for (const auto& c : target.suite->checks) check_names.push_back(c.name);
  }
  for (const auto& name : check_names) {
    check_metrics c;
    c.success = &success_.Add(with(base, {{"check", name}}));
    for (std::size_t i = 0; i < probe_results.size(); ++i)
      c.total[i] = &total_.Add(with(base, {{"check", name}, {"result", std::string(probe_results[i])}}));
    m->checks.push_back(c);
  }
  m->uptime_1h = &uptime_.Add(with(base, {{"window", "1h"}}));
  m->uptime_24h = &uptime_.Add(with(base, {{"window", "24h"}}));
  m->uptime_1h->Set(1);
  m->uptime_24h->Set(1);
  for (std::size_t i = 0; i < delivery_results.size(); ++i)
    m->webhook[i] = &webhook_.Add(with(base, {{"result", std::string(delivery_results[i])}}));
  m->skipped = &skipped_.Add(base);
  for (const auto& obj : objectives_of(target.slo)) {
    slo_metrics s;
    s.name = obj.name;
    s.breached = &breached_.Add(with(base, {{"slo", obj.name}}));
    for (const auto& a : target.slo.burn_alerts)
      for (nanoseconds w : {a.long_window, a.short_window})
        s.burn.push_back(&burn_.Add(with(base, {{"slo", obj.name}, {"window", window_label(w)}})));
    m->slos.push_back(std::move(s));
  }
  return m;
}

void agent_metrics::remove_target(const target_metrics& m) {
  for (const auto& c : m.checks) {
    success_.Remove(c.success);
    for (auto* counter : c.total) total_.Remove(counter);
  }
  for (auto* h : m.duration)
    if (h) duration_.Remove(h);
  uptime_.Remove(m.uptime_1h);
  uptime_.Remove(m.uptime_24h);
  if (m.cert_expiry) cert_.Remove(m.cert_expiry);
  for (auto* c : m.webhook) webhook_.Remove(c);
  skipped_.Remove(m.skipped);
  for (const auto& s : m.slos) {
    breached_.Remove(s.breached);
    // Two alerts may share a window label (the same series): Remove tolerates repeats.
    for (auto* g : s.burn) burn_.Remove(g);
    if (s.budget_remaining) budget_.Remove(s.budget_remaining);
  }
}

void agent_metrics::observe_phase(target_metrics& m, std::size_t phase, double seconds) {
  if (!m.duration[phase]) {
    // Loopback answers in tens of microseconds; Internet targets in hundreds of milliseconds.
    static const pm::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
    m.duration[phase] =
        &duration_.Add(with(m.labels, {{"phase", std::string(probe_phases[phase])}}), buckets);
  }
  m.duration[phase]->Observe(seconds);
}

void agent_metrics::set_cert_expiry(target_metrics& m, double unix_seconds) {
  if (!m.cert_expiry) m.cert_expiry = &cert_.Add(m.labels);
  m.cert_expiry->Set(unix_seconds);
}

void agent_metrics::set_budget_remaining(target_metrics& m, std::size_t slo, std::optional<double> fraction) {
  if (slo >= m.slos.size()) return;
  slo_metrics& s = m.slos[slo];
  if (!fraction) {
    if (s.budget_remaining) budget_.Remove(s.budget_remaining);
    s.budget_remaining = nullptr;
    return;
  }
  if (!s.budget_remaining) s.budget_remaining = &budget_.Add(with(m.labels, {{"slo", s.name}}));
  s.budget_remaining->Set(*fraction);
}

void agent_metrics::set_shard(unsigned index, unsigned count) {
  if (shard_series_) shard_.Remove(shard_series_);
  shard_series_ = &shard_.Add({{"index", std::to_string(index)}, {"count", std::to_string(count)}});
  shard_series_->Set(1);
}

std::string agent_metrics::serialize() const { return pm::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace watchpost::agent
