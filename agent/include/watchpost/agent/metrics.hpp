#pragma once
// The agent's Prometheus metrics (SPEC "Metrics"; names are stable API) on a prometheus-cpp
// registry, plus agent health. Labels are bounded: target names and `labels:` from the config,
// the closed result/phase sets, SLO names and configured window labels — never error text.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/agent/config.hpp"
#include "watchpost/probes/failure.hpp"

namespace watchpost::agent {

inline constexpr std::array<std::string_view, 8> probe_results = {
    "ok", "dns", "connect", "tls", "timeout", "status", "assertion", "protocol"};
inline constexpr std::array<std::string_view, 6> probe_phases = {"resolve", "connect",  "tls",
                                                                 "ttfb",    "transfer", "total"};
std::size_t result_index(probes::failure_kind kind);
// watchpost_webhook_deliveries_total{result}: a 2xx, a failed attempt (retried), a permanent
// refusal (4xx but 408/429: retries stop), an event older than max_event_age (not sent).
enum class delivery_result { delivered, failed, dead_letter, expired };
inline constexpr std::array<std::string_view, 4> delivery_results = {"delivered", "failed", "dead_letter",
                                                                     "expired"};
// watchpost_webhook_events_dropped_total{reason}: events removed from the outbox unsent.
enum class drop_reason { hook_removed, expired, outbox_full, dead_letter, collapsed };
inline constexpr std::array<std::string_view, 5> drop_reasons = {"hook_removed", "expired", "outbox_full",
                                                                 "dead_letter", "collapsed"};

struct slo_metrics {
  std::string name;  // the objective: availability, latency_p95, error_rate
  prometheus::Gauge* breached = nullptr;
  std::vector<prometheus::Gauge*> burn;  // alert windows in config order: long, short, long, short...
  prometheus::Gauge* budget_remaining = nullptr;  // present only while the window has min_requests probes
};

// watchpost_probe_success and _total of one check (label check=<name>, "probe" for a
// single-probe target).
struct check_metrics {
  prometheus::Gauge* success = nullptr;
  std::array<prometheus::Counter*, probe_results.size()> total{};
};

// Pointers into the registry's families for one target; valid until remove_target().
struct target_metrics {
  prometheus::Labels labels;          // target=<name> and the configured labels, on every series below
  std::vector<check_metrics> checks;  // parallel to the suite's checks, else one "probe"
  // Added on a phase's first observation: a plain-http target by IP address never shows
  // resolve or tls series (a third of the /metrics text at thousands of targets).
  std::array<prometheus::Histogram*, probe_phases.size()> duration{};
  prometheus::Gauge* uptime_1h = nullptr;
  prometheus::Gauge* uptime_24h = nullptr;
  prometheus::Gauge* cert_expiry = nullptr;                             // added on the first TLS probe
  std::array<prometheus::Counter*, delivery_results.size()> webhook{};  // by delivery_result
  prometheus::Counter* skipped = nullptr;
  std::vector<slo_metrics> slos;  // parallel to objectives_of(target.slo)
};

class agent_metrics {
 public:
  agent_metrics();
  std::unique_ptr<target_metrics> add_target(const target_config& target);
  void remove_target(const target_metrics& metrics);
  // Both may add a series: call from the target's worker thread (the registry locks).
  void observe_phase(target_metrics& metrics, std::size_t phase, double seconds);
  void set_cert_expiry(target_metrics& metrics, double unix_seconds);
  // nullopt removes the series: a budget over too few probes would be noise on a dashboard.
  void set_budget_remaining(target_metrics& metrics, std::size_t slo, std::optional<double> fraction);

  // watchpost_agent_shard{index,count} 1: the share of the config this agent probes (replaced
  // on a reload that changes it).
  void set_shard(unsigned index, unsigned count);

  // Prometheus text exposition format 0.0.4 of everything registered.
  std::string serialize() const;

  prometheus::Gauge& probes_in_flight() { return *in_flight_; }
  prometheus::Gauge& scheduler_lag_seconds() { return *lag_; }
  prometheus::Gauge& outbox_depth() { return *outbox_depth_; }
  prometheus::Counter& state_write_errors() { return *state_errors_; }
  prometheus::Counter& reloads(bool ok) { return ok ? *reload_ok_ : *reload_failed_; }
  prometheus::Counter& events_dropped(drop_reason r) { return *dropped_[static_cast<std::size_t>(r)]; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& success_;
  prometheus::Family<prometheus::Counter>& total_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& uptime_;
  prometheus::Family<prometheus::Gauge>& burn_;
  prometheus::Family<prometheus::Gauge>& breached_;
  prometheus::Family<prometheus::Gauge>& budget_;
  prometheus::Family<prometheus::Gauge>& cert_;
  prometheus::Family<prometheus::Counter>& webhook_;
  prometheus::Family<prometheus::Counter>& skipped_;
  prometheus::Family<prometheus::Gauge>& shard_;
  prometheus::Gauge* shard_series_ = nullptr;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* lag_;
  prometheus::Gauge* outbox_depth_;
  prometheus::Counter* state_errors_;
  prometheus::Counter* reload_ok_;
  prometheus::Counter* reload_failed_;
  std::array<prometheus::Counter*, drop_reasons.size()> dropped_{};
};

}  // namespace watchpost::agent
