#include "state_store.hpp"

#include "watchpost/agent/log.hpp"
#include "watchpost/agent/outbox.hpp"
#include "watchpost/common/text_file.hpp"

namespace watchpost::agent::detail {

state_store::state_store(std::string state_dir, agent_metrics& metrics)
    : state_dir_(std::move(state_dir)), metrics_(metrics) {}

void state_store::prepare() {
  if (auto error = ensure_directory(state_dir_)) report_error("state_dir unusable", *error);
}

std::string state_store::path(bool slo_targets) const {
  return state_dir_ + (slo_targets ? "/slo-state.json" : "/uptime-state.json");
}

std::vector<std::string> state_store::read() const {
  std::vector<std::string> texts;
  for (bool slo_targets : {true, false})
    if (auto text = read_text_file(path(slo_targets))) texts.push_back(std::move(*text));
  return texts;
}

void state_store::write(const target_list& targets, bool slo_targets) {
  state_snapshot snapshot;
  for (const auto& t : targets) {
    if (t->objectives.empty() == slo_targets) continue;
    std::lock_guard lock(t->mutex);
    snapshot.add(t->config.name, t->window);
  }
  if (snapshot.empty()) return;
  if (auto error = write_file_durably(path(slo_targets), snapshot.text()))
    report_error(slo_targets ? "cannot write SLO snapshot" : "cannot write uptime snapshot", *error);
}

void state_store::report_error(const char* what, const std::string& error) {
  metrics_.state_write_errors().Increment();
  log_event(log_level::error, what, {{"error", error}});
}

}  // namespace watchpost::agent::detail
