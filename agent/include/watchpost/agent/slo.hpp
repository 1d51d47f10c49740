#pragma once
// SLO and burn-rate evaluation in constant memory: probe outcomes are counted into rings of
// fixed time slices (wall clock, so a snapshot stays meaningful across restarts), and a pure
// evaluator turns the counts into breached/resolved decisions.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/agent/config.hpp"

namespace watchpost::agent {

using wall_clock = std::chrono::system_clock;
using wall_time = wall_clock::time_point;

struct slice_counts {
  std::uint32_t total = 0;
  std::uint32_t failed = 0;
  std::uint32_t slow = 0;  // over the latency SLO bound (failed probes count as slow too)
  void add(const slice_counts& o) {
    total += o.total;
    failed += o.failed;
    slow += o.slow;
  }
};

// A ring of `length` slices of `slice` duration. The ring remembers the newest slice recorded;
// slots it passed over while moving forward are cleared then, so a slot is only its counts. The
// uptime rings (every target has two, of 61 and 97 slices) count no slow probes: 8 bytes a slot
// there, 12 in the SLO rings (24 when each slot carried its slice index).
class slice_ring {
 public:
  slice_ring() = default;
  slice_ring(nanoseconds slice, std::size_t length, bool count_slow = true);
  void record(wall_time at, const slice_counts& delta);
  // Sum over the slices overlapping (now - window, now] (slow is 0 in a ring that counts none).
  slice_counts sum(wall_time now, nanoseconds window) const;
  nanoseconds slice() const { return slice_; }
  std::size_t length() const { return counts_.size() / fields_; }

  // Text round trip for the state snapshot; parse() returns false on mismatch.
  std::string serialize() const;
  bool parse(const std::string& text);

 private:
  std::int64_t index_at(wall_time t) const;
  std::size_t offset(std::int64_t index) const;  // of the slice's first count in counts_
  // Moves the newest slice to `index`, clearing the slots in between (all of them after a clock
  // step back past the ring: what they held is then in the future).
  void advance_to(std::int64_t index);
  void set(std::int64_t index, const slice_counts& c);
  slice_counts at(std::size_t offset) const;
  nanoseconds slice_{std::chrono::seconds(1)};
  std::int64_t newest_ = -1;  // slices (newest_ - length, newest_] are in the ring
  std::size_t fields_ = 3;    // total, failed and, when counted, slow
  std::vector<std::uint32_t> counts_;
};

// One SLO of a target, reduced to "bad events must stay under budget".
struct slo_objective {
  std::string name;                // availability | latency_p95 | error_rate
  double budget = 0.0;             // allowed bad fraction
  double threshold_display = 0.0;  // the configured objective, for payloads
  bool counts_slow = false;        // bad = slow (latency) instead of failed
};
std::vector<slo_objective> objectives_of(const slo_config& slo);

struct burn_reading {
  std::string window;  // window label, e.g. "1h"
  double burn = 0.0;
};

// The hook of a snapshot from before per-hook state: sync_hooks() gives its state to every hook.
inline constexpr std::string_view any_hook = "*";

// One on_breach entry's view of an SLO: each hook keeps its own cooldown.
struct hook_status {
  std::string hook;  // the webhook URL: its identity across reloads (list order may change)
  std::int64_t last_breach_event_ms = -1;  // for this hook's cooldown
  bool open = false;                       // this hook was sent the current breach: its resolved is owed
};

struct slo_status {
  bool breached = false;
  bool event_open = false;  // a breached event was emitted and its resolved is owed
  std::int64_t breach_started_ms = 0;
  std::int64_t last_breach_event_ms = -1;  // the last breached event emitted
  std::vector<hook_status> hooks;          // matched to target.on_breach by URL (sync_hooks)
  std::int64_t clear_since_ms = -1;        // hysteresis: condition false since
  double observed = 0.0;                   // bad fraction over the long window of the alert that fired
  std::string alert_window;                // "1h/5m"
};

// Per-target window state: what survives restarts. Uptime has rings of its own so the 1h and
// 24h figures keep their resolution whatever the SLO geometry (a 30d window has 2.5 h slices).
struct target_window_state {
  slice_ring burn_ring;          // covers the longest burn window at fine resolution
  slice_ring window_ring;        // covers the SLO window coarsely (empty without an SLO)
  slice_ring hour_ring;          // 1-minute slices over 1 h
  slice_ring day_ring;           // 15-minute slices over 24 h
  std::vector<slo_status> slos;  // parallel to objectives_of(config.slo)

  static target_window_state make(const target_config& target);
  void record(wall_time at, bool ok, bool slow);
  // From the finest ring that spans `window` (else the longest): within one slice of exact.
  double uptime_ratio(wall_time now, nanoseconds window) const;  // 1 when no probes yet
};

// Per objective (parallel to objectives_of): the fraction of the error budget left over the
// SLO window, 1 - bad / (allowed fraction x probes); negative once overspent. nullopt while the
// window holds fewer than min_requests probes (at least one): no figure beats a made-up one.
std::vector<std::optional<double>> error_budget_remaining(const slo_config& slo,
                                                          const target_window_state& state, wall_time now);

enum class slo_event_kind { breached, resolved };

struct slo_decision {
  std::size_t slo_index = 0;
  slo_event_kind kind = slo_event_kind::breached;
  std::vector<std::size_t> hooks;  // indices into target.on_breach to send the event to
  std::int64_t breach_ms = 0;      // start of the breach the event belongs to
  std::string event_id;
  double observed = 0.0;
  double threshold = 0.0;
  std::string window;
};

struct evaluation {
  std::vector<slo_decision> decisions;
  // Burn rates per objective (parallel to objectives) and burn alert window.
  std::vector<std::vector<burn_reading>> burn;
};

// The pure evaluator. A breach starts when any burn alert has burn >= factor over both its
// long and short windows (with at least min_requests probes in the long window); it
// resolves once no alert has held for `hold` (the longest short window: hysteresis). Each
// on_breach entry has its own cooldown: a breach inside a hook's cooldown of the last breach
// sent to it is not sent to it (nor its resolved). A breach no hook is sent (all in cooldown)
// is tracked but emits no decision; a target without hooks emits every transition.
evaluation evaluate(const target_config& target, target_window_state& state, wall_time now);

// Aligns status.hooks with target.on_breach by URL: a reordered list keeps each hook's
// cooldown and open breach, a new hook starts fresh, a removed one is forgotten.
void sync_hooks(const target_config& target, slo_status& status);

}  // namespace watchpost::agent
