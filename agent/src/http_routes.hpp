#pragma once
// What the status server answers on each path: /metrics, /healthz, /api/status, /status.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "runtime.hpp"
#include "scheduler.hpp"

namespace watchpost::agent::detail {

class http_routes {
 public:
  // All references belong to the agent process and outlive the server; `config` is replaced on
  // reload. `targets_mutex` is held by whoever replaces the targets or restarts the scheduler.
  http_routes(const std::shared_ptr<const agent_config>& config, const target_list& targets,
              agent_metrics& metrics, scheduler& probes, std::mutex& targets_mutex);
  // Every path but /metrics; on the control thread, which owns `config` and `targets`.
  http_reply operator()(std::string_view path);
  // The /metrics text; on the status server's render thread.
  std::string render_metrics();

 private:
  // Uptime and error budgets sum hundreds of slices: done once per scrape, not once per probe.
  void refresh_window_gauges();

  const std::shared_ptr<const agent_config>& config_;
  const target_list& targets_;
  agent_metrics& metrics_;
  scheduler& scheduler_;
  std::mutex& targets_mutex_;
};

}  // namespace watchpost::agent::detail
