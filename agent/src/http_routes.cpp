#include "http_routes.hpp"

namespace watchpost::agent::detail {

http_routes::http_routes(const std::shared_ptr<const agent_config>& config, const target_list& targets,
                         agent_metrics& metrics, scheduler& probes, std::mutex& targets_mutex)
    : config_(config),
      targets_(targets),
      metrics_(metrics),
      scheduler_(probes),
      targets_mutex_(targets_mutex) {}

http_reply http_routes::operator()(std::string_view path) {
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/api/status") return {200, "application/json", render_status_json(*config_, targets_)};
  if (path == "/status" || path == "/")
    return {200, "text/html; charset=utf-8", render_status_html(*config_, targets_)};
  return {404, "text/plain; charset=utf-8", "not found (try /metrics, /status, /api/status, /healthz)\n"};
}

std::string http_routes::render_metrics() {
  {
    // A reload on the control thread removes the targets' series and joins the scheduler's
    // workers: neither may happen while this reads them.
    std::lock_guard lock(targets_mutex_);
    metrics_.scheduler_lag_seconds().Set(static_cast<double>(scheduler_.take_max_lag_ns()) / 1e9);
    refresh_window_gauges();
  }
  return metrics_.serialize();  // it locks the target list and the registry itself
}

void http_routes::refresh_window_gauges() {
  const auto now = wall_clock::now();
  for (const auto& t : targets_) {
    double uptime_1h = 1, uptime_24h = 1;
    std::vector<std::optional<double>> budget;
    {
      std::lock_guard lock(t->mutex);
      uptime_1h = t->window.uptime_ratio(now, std::chrono::hours(1));
      uptime_24h = t->window.uptime_ratio(now, std::chrono::hours(24));
      if (!t->objectives.empty()) budget = error_budget_remaining(t->config.slo, t->window, now);
    }
    t->metrics->uptime_1h.set(uptime_1h);
    t->metrics->uptime_24h.set(uptime_24h);
    for (std::size_t i = 0; i < budget.size(); ++i) metrics_.set_budget_remaining(*t->metrics, i, budget[i]);
  }
}

}  // namespace watchpost::agent::detail
