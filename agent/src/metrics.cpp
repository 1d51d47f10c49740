#include "watchpost/agent/metrics.hpp"

#include <algorithm>
#include <limits>

#include "target_families.hpp"
#include "watchpost/agent/slo.hpp"
#include "watchpost/exporters/prometheus_text.hpp"

namespace watchpost::agent {

namespace pm = prometheus;

std::size_t result_index(probes::failure_kind kind) {
  const std::string_view label = probes::metric_result(kind);
  for (std::size_t i = 0; i < probe_results.size(); ++i)
    if (probe_results[i] == label) return i;
  return probe_results.size() - 1;  // an unknown kind is a protocol-level surprise
}

duration_histogram::duration_histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void duration_histogram::observe(double seconds) {
  // Bounds are upper-inclusive (le), as in prometheus::Histogram.
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  counts_[static_cast<std::size_t>(at)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
}

target_metrics::target_metrics(const target_config& c)
    : config(c), checks(c.suite ? c.suite->checks.size() : 1), slos(objectives_of(c.slo).size()) {
  const phase_histograms h = c.metrics.histograms;
  for (std::size_t p = 0; p < probe_phases.size(); ++p)
    if (h == phase_histograms::all || (h == phase_histograms::total && p + 1 == probe_phases.size()))
      duration[p] = std::make_unique<duration_histogram>(c.metrics.duration_buckets);
  uptime_1h.set(1);
  uptime_24h.set(1);
  cert_expiry.set(std::numeric_limits<double>::quiet_NaN());
  const auto objectives = objectives_of(c.slo);
  for (std::size_t i = 0; i < slos.size(); ++i) {
    slos[i].name = objectives[i].name;
    slos[i].burn = std::make_unique<gauge_cell[]>(2 * c.slo.burn_alerts.size());  // long and short each
    slos[i].budget_remaining.set(std::numeric_limits<double>::quiet_NaN());
  }
}

agent_metrics::agent_metrics()
    : targets_(std::make_unique<detail::target_families>()),
      registry_(std::make_shared<pm::Registry>()),
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

agent_metrics::~agent_metrics() = default;

std::unique_ptr<target_metrics> agent_metrics::add_target(const target_config& target) {
  auto m = std::make_unique<target_metrics>(target);
  targets_->add(*m);
  return m;
}

void agent_metrics::remove_target(const target_metrics& m) { targets_->remove(m); }

void agent_metrics::count_result(target_metrics& m, std::size_t check, probes::failure_kind kind) {
  m.checks[check].total[result_index(kind)].increment();
}

void agent_metrics::observe_phase(target_metrics& m, std::size_t phase, double seconds) {
  if (m.duration[phase]) m.duration[phase]->observe(seconds);
}

void agent_metrics::count_skipped(target_metrics& m) { m.skipped.increment(); }

void agent_metrics::count_delivery(target_metrics& m, delivery_result result) {
  m.webhook[static_cast<std::size_t>(result)].increment();
}

void agent_metrics::set_cert_expiry(target_metrics& m, double unix_seconds) {
  m.cert_expiry.set(unix_seconds);
}

void agent_metrics::set_budget_remaining(target_metrics& m, std::size_t slo, std::optional<double> fraction) {
  if (slo < m.slos.size())
    m.slos[slo].budget_remaining.set(fraction.value_or(std::numeric_limits<double>::quiet_NaN()));
}

void agent_metrics::set_shard(unsigned index, unsigned count) {
  if (shard_series_) shard_.Remove(shard_series_);
  shard_series_ = &shard_.Add({{"index", std::to_string(index)}, {"count", std::to_string(count)}});
  shard_series_->Set(1);
}

std::string agent_metrics::serialize() const {
  std::string text;
  text.reserve(last_size_ + last_size_ / 8);
  targets_->append_text(text);
  exporters::append_prometheus_text(text, registry_->Collect());
  last_size_ = text.size();
  return text;
}

std::vector<pm::MetricFamily> agent_metrics::collect() const {
  auto families = targets_->Collect();
  auto agent = registry_->Collect();
  families.insert(families.end(), std::make_move_iterator(agent.begin()),
                  std::make_move_iterator(agent.end()));
  return families;
}

}  // namespace watchpost::agent
