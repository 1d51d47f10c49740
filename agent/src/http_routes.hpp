#pragma once
// What the status server answers on each path: /metrics, /healthz, /api/status, /status.
#include <memory>
#include <string_view>

#include "runtime.hpp"
#include "scheduler.hpp"

namespace watchpost::agent::detail {

class http_routes {
 public:
  // All references belong to the agent process and outlive the server; `config` is replaced on reload.
  http_routes(const std::shared_ptr<const agent_config>& config, const target_list& targets, agent_metrics& metrics,
              scheduler& probes);
  http_reply operator()(std::string_view path);

 private:
  // Uptime and error budgets sum hundreds of slices: done once per scrape, not once per probe.
  void refresh_window_gauges();

  const std::shared_ptr<const agent_config>& config_;
  const target_list& targets_;
  agent_metrics& metrics_;
  scheduler& scheduler_;
};

}  // namespace watchpost::agent::detail
