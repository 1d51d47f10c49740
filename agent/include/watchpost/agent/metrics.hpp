#pragma once
// The agent's Prometheus metrics (SPEC "Metrics"; names are stable API): the per-target series in
// compact cells of our own (about 300 bytes a default target; prometheus-cpp's label maps and
// series objects took ~2.5 KB), the agent's health on a prometheus-cpp registry. Labels are bounded: target
// names and `labels:` from the config, the closed result/phase sets, SLO names and configured window labels —
// never error text.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstdint>
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

// One value of a series, written without a lock (probe hot path) and read by the renderer.
class gauge_cell {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

class counter_cell {
 public:
  void increment() { n_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t value() const { return n_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> n_{0};
};

// A duration histogram over the config's bucket bounds: a count per bucket (+Inf last), made
// cumulative when rendered, and the sum. prometheus::Histogram locks a mutex per observation.
class duration_histogram {
 public:
  explicit duration_histogram(const std::vector<double>& bounds);
  void observe(double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>& bounds_;  // the target's config: outlives its metrics
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

struct slo_metrics {
  std::string name;  // the objective: availability, latency_p95, error_rate
  gauge_cell breached;
  // Burn rates by reading (parallel to evaluation::burn: long, short, long, short... of the
  // alerts in config order); two readings of one window label are one series, the later wins.
  std::unique_ptr<gauge_cell[]> burn;
  // NaN while the window has fewer than min_requests probes: the series is left out.
  gauge_cell budget_remaining;
};

// watchpost_probe_success and _total of one check (label check=<name>, "probe" for a
// single-probe target). A result's counter is shown once the check had that result (`ok` from
// the start): six of the eight would stay at 0 on a healthy target.
struct check_metrics {
  gauge_cell success;
  std::array<counter_cell, probe_results.size()> total;
};

// The values of one target's series. Its labels are not stored: they are rendered from the
// target's config (target=<name> and its labels:), which outlives these metrics.
struct target_metrics {
  explicit target_metrics(const target_config& config);
  const target_config& config;
  std::vector<check_metrics> checks;  // parallel to the suite's checks, else one "probe"
  // By phase_histograms: none; phase="total"; or every phase, each shown from its first
  // observation (a plain-http target by IP address never shows resolve or tls series).
  std::array<std::unique_ptr<duration_histogram>, probe_phases.size()> duration;
  gauge_cell uptime_1h;
  gauge_cell uptime_24h;
  gauge_cell cert_expiry;  // NaN until the first TLS probe
  // By delivery_result: shown from the start on a target with on_breach hooks, else from a
  // first delivery (an event outliving a reload that removed its hooks).
  std::array<counter_cell, delivery_results.size()> webhook;
  counter_cell skipped;           // shown from the first skipped tick
  std::vector<slo_metrics> slos;  // parallel to objectives_of(target.slo)
};

namespace detail {
class target_families;
}

class agent_metrics {
 public:
  agent_metrics();
  agent_metrics(const agent_metrics&) = delete;
  agent_metrics& operator=(const agent_metrics&) = delete;
  ~agent_metrics();
  // The target's series are rendered until remove_target (control thread, as is add_target).
  std::unique_ptr<target_metrics> add_target(const target_config& target);
  void remove_target(const target_metrics& metrics);
  // Lock-free: from the target's worker thread (count_delivery from the control thread).
  void count_result(target_metrics& metrics, std::size_t check, probes::failure_kind kind);
  void observe_phase(target_metrics& metrics, std::size_t phase, double seconds);
  void set_cert_expiry(target_metrics& metrics, double unix_seconds);
  void count_skipped(target_metrics& metrics);
  void count_delivery(target_metrics& metrics, delivery_result result);
  // nullopt hides the series: a budget over too few probes would be noise on a dashboard.
  void set_budget_remaining(target_metrics& metrics, std::size_t slo, std::optional<double> fraction);

  // watchpost_agent_shard{index,count} 1: the share of the config this agent probes (replaced
  // on a reload that changes it).
  void set_shard(unsigned index, unsigned count);

  // Prometheus text exposition format 0.0.4: the targets' series, then the agent's own. Not
  // concurrently with itself (the agent renders on one thread).
  std::string serialize() const;
  // The same series as prometheus-cpp families (the Collectable seam), in the same order.
  std::vector<prometheus::MetricFamily> collect() const;

  prometheus::Gauge& probes_in_flight() { return *in_flight_; }
  prometheus::Gauge& scheduler_lag_seconds() { return *lag_; }
  prometheus::Gauge& outbox_depth() { return *outbox_depth_; }
  prometheus::Counter& state_write_errors() { return *state_errors_; }
  prometheus::Counter& reloads(bool ok) { return ok ? *reload_ok_ : *reload_failed_; }
  prometheus::Counter& events_dropped(drop_reason r) { return *dropped_[static_cast<std::size_t>(r)]; }

 private:
  // The per-target series (a prometheus::Collectable of its own), then the agent's.
  std::unique_ptr<detail::target_families> targets_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& shard_;
  prometheus::Gauge* shard_series_ = nullptr;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* lag_;
  prometheus::Gauge* outbox_depth_;
  prometheus::Counter* state_errors_;
  prometheus::Counter* reload_ok_;
  prometheus::Counter* reload_failed_;
  std::array<prometheus::Counter*, drop_reasons.size()> dropped_{};
  mutable std::size_t last_size_ = 0;  // the previous render's length: reserved for the next
};

}  // namespace watchpost::agent
