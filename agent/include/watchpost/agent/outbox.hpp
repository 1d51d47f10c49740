#pragma once
// What the agent keeps on disk in state_dir: the webhook outbox (one file per pending
// delivery, written durably before the first attempt, removed after a 2xx) and the SLO
// window snapshot. Plain file I/O; failures come back as messages, never exceptions, so a
// full disk degrades delivery guarantees without stopping the probes.
#include <cstddef>
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
  std::string event_id;  // the receiver's idempotency key
  std::string target;
  std::size_t webhook_index = 0;  // into the target's on_breach list
  std::string body;  // the JSON payload, exactly as signed and sent
  std::string file_name() const;  // stable per (event_id, webhook_index)
};

class outbox {
 public:
  explicit outbox(std::string directory);
  const std::string& directory() const { return directory_; }
  // Durably stores the event; an error message when that failed (the event is then kept
  // in memory only and delivered while this process lives).
  std::optional<std::string> put(const outbox_event& event);
  std::optional<std::string> remove(const outbox_event& event);
  // Every readable pending event; unreadable files are reported in `errors`.
  std::vector<outbox_event> load(std::vector<std::string>& errors) const;

 private:
  std::string directory_;
};

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
