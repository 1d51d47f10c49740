#pragma once
// What the agent keeps on disk in state_dir: the webhook outbox (one file per pending
// delivery, written durably before the first attempt, removed after a 2xx) and the SLO
// window snapshot. Plain file I/O; failures come back as messages, never exceptions, so a
// full disk degrades delivery guarantees without stopping the probes.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "watchpost/agent/slo.hpp"

namespace watchpost::agent {

// temp file + fsync + rename + fsync(dir). Returns an error message or nullopt.
std::optional<std::string> write_file_durably(const std::string& path, const std::string& content);
// mkdir -p; returns an error message or nullopt.
std::optional<std::string> ensure_directory(const std::string& path);

struct outbox_event {
  std::uint64_t seq = 0;  // assigned by outbox::put: the delivery order, also after a restart
  std::string event_id;   // the receiver's idempotency key (one per decision, shared by its hooks)
  std::string target;
  std::string hook;  // the on_breach entry's URL: its identity across reloads, not a list index
  std::string slo;   // objective name
  bool resolved = false;
  std::int64_t breach_ms = 0;     // start of the breach the event belongs to (pairs breached/resolved)
  std::int64_t raised_ms = 0;     // wall clock, for max_event_age
  std::string body;               // the JSON payload, exactly as signed and sent
  std::string file_name() const;  // the zero-padded seq: directory order is delivery order
};

enum class put_result { stored, full, failed };

// One file per event. put() may be called from any thread (the workers raise events);
// remove() and load() from the control thread.
class outbox {
 public:
  explicit outbox(std::string directory, std::size_t max_events = 10000);
  const std::string& directory() const { return directory_; }
  void set_limit(std::size_t max_events) { limit_ = max_events; }
  // Assigns event.seq and durably stores the event (fsync of file and directory) unless the
  // outbox holds `max_events` already (full: nothing stored). A resolved is admitted beyond
  // the limit: it is owed to a receiver that was sent its breached (at most one per open
  // breach and hook). On failed, `error` says why and the event counts as held (it is
  // delivered from memory while this process lives).
  put_result put(outbox_event& event, std::string& error);
  std::optional<std::string> remove(const outbox_event& event);
  // The URL of on_breach[index] of `target` in the running config, "" when there is none.
  using legacy_hook = std::function<std::string(const std::string& target, std::size_t index)>;
  // Every readable pending event in seq order (unreadable files are reported in `errors`);
  // later puts continue after the highest seq found. Records of the previous format (hook by
  // list position, no seq, named by a hash) are adopted through `legacy`: rewritten in this
  // format, ordered by breach and kind, after the others.
  std::vector<outbox_event> load(std::vector<std::string>& errors, const legacy_hook& legacy = {});
  std::size_t size() const { return held_.load(); }

 private:
  std::string directory_;
  std::atomic<std::size_t> limit_;
  std::atomic<std::uint64_t> next_seq_{1};
  std::atomic<std::size_t> held_{0};
};

// Start-up reconciliation of a pending event with the restored state of its target (whose
// objectives are `objectives`): the event's outbox record was fsynced before the state that
// says it was raised, so a crash in between leaves a snapshot that does not know the event.
// Applying it makes the state say what the event says, so the evaluator neither re-fires the
// breach under a new id nor forgets the resolved it owes. Events the state already knows of
// (an older breach, a resolved already applied) change nothing.
void reconcile(target_window_state& state, const std::vector<slo_objective>& objectives,
               const outbox_event& event);

// The window snapshot: target name -> state, built one target at a time so a caller can
// hold each target's lock just for its own entry (thousands of targets take a while).
// Entries whose geometry no longer matches the config are dropped on restore
// (slice_ring::parse returns false).
class state_snapshot {
 public:
  void add(const std::string& name, const target_window_state& state);
  bool empty() const { return entries_.empty(); }
  std::string text() const;

 private:
  std::string entries_;  // "name":{...},"name":{...}
};
// Restores into `states` (already built from the config) the targets found in the text.
void restore_states(const std::string& text, std::map<std::string, target_window_state*>& states);

}  // namespace watchpost::agent
