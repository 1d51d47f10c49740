#pragma once
// The SLO and uptime window snapshots in state_dir: read once at start, written every few
// seconds, on reload and on shutdown. Write failures are counted and logged, never thrown: a full
// disk weakens what survives a restart but never stops the probes.
#include <string>
#include <vector>

#include "runtime.hpp"

namespace watchpost::agent::detail {

class state_store {
 public:
  state_store(std::string state_dir, agent_metrics& metrics);
  // Creates state_dir (an error is logged and counted).
  void prepare();
  // The snapshot texts found (SLO targets first), for restore_states().
  std::vector<std::string> read() const;
  // The window state of the targets with an SLO (or of those without one) to its file. Each
  // target is locked only while its own entry is copied, so probes never wait for the file.
  void write(const target_list& targets, bool slo_targets = true);
  // Counts a state write failure and logs it.
  void report_error(const char* what, const std::string& error);

 private:
  std::string path(bool slo_targets) const;

  std::string state_dir_;
  agent_metrics& metrics_;
};

}  // namespace watchpost::agent::detail
