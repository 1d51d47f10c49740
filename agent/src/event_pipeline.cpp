#include "event_pipeline.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "watchpost/agent/log.hpp"
#include "watchpost/exporters/webhook.hpp"

namespace watchpost::agent::detail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto dispatch_tick = std::chrono::milliseconds(100);
constexpr int max_concurrent_deliveries = 16;
// Per-event retry schedule of the outbox: one attempt per round, rounds spaced by
// exponential backoff with full jitter, forever (the event stays on disk until a 2xx).
constexpr exporters::retry_policy outbox_rounds{1, std::chrono::milliseconds(500), std::chrono::seconds(10)};

}  // namespace

event_pipeline::event_pipeline(asio::io_context& control, const std::string& state_dir, const target_list& targets,
                               agent_metrics& metrics, state_store& state, tls_contexts& tls)
    : control_(control), targets_(targets), metrics_(metrics), state_(state), tls_(tls), outbox_(state_dir + "/outbox") {}

void event_pipeline::publish_depth() { metrics_.outbox_depth().Set(static_cast<double>(pending_.size())); }

void event_pipeline::restore() {
  std::vector<std::string> errors;
  for (auto& e : outbox_.load(errors)) pending_.push_back({std::move(e)});
  for (const auto& error : errors) log_event(log_level::warn, "outbox", {{"error", error}});
  if (!pending_.empty()) log_event(log_level::info, "pending webhook events restored", {{"count", std::to_string(pending_.size())}});
  publish_depth();
}

void event_pipeline::start() {
  asio::co_spawn(control_, dispatch_loop(), [](std::exception_ptr e) { log_exception(e, "webhook dispatcher failed"); });
}

// The breach state is made durable before its events, so a crash cannot re-fire it under a new id.
void event_pipeline::accept(std::vector<outbox_event> events) {
  state_.write(targets_);
  for (auto& e : events) {
    if (auto error = outbox_.put(e)) state_.report_error("cannot persist webhook event; delivering from memory", *error);
    pending_.push_back({std::move(e)});
  }
  publish_depth();
}

target_runtime* event_pipeline::find_target(const std::string& name) const {
  for (auto& t : targets_)
    if (t->config.name == name) return t.get();
  return nullptr;
}

asio::awaitable<void> event_pipeline::dispatch_loop() {
  asio::steady_timer timer(control_);
  while (true) {
    int running = 0;
    for (auto& p : pending_) running += p.in_flight;
    const auto now = steady::now();
    for (auto it = pending_.begin(); it != pending_.end() && running < max_concurrent_deliveries; ++it) {
      if (it->in_flight || it->next_attempt > now) continue;
      it->in_flight = true;
      ++running;
      asio::co_spawn(control_, deliver(it), [](std::exception_ptr e) { log_exception(e, "webhook delivery failed"); });
    }
    timer.expires_after(dispatch_tick);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

asio::awaitable<void> event_pipeline::deliver(pending_list::iterator it) {
  const outbox_event& e = it->event;
  target_runtime* target = find_target(e.target);
  if (!target || e.webhook_index >= target->config.on_breach.size()) {
    log_event(log_level::warn, "webhook event dropped: its target or webhook is no longer configured",
              {{"target", e.target}, {"event_id", e.event_id}});
    finish(it);
    co_return;
  }
  const webhook_config& hook = target->config.on_breach[e.webhook_index];
  const exporters::webhook_endpoint endpoint{hook.url, hook.secret, hook.timeout};
  // Copies: a reload may replace `target` while the request is in flight.
  const std::string event_id = e.event_id, body = e.body, target_name = e.target;
  const exporters::delivery_outcome outcome =
      co_await exporters::deliver_webhook(endpoint, event_id, body, outbox_rounds, tls_.get(false));
  target = find_target(target_name);
  if (outcome.delivered) {
    if (target) target->metrics->webhook_delivered->Increment();
    log_event(log_level::info, "webhook delivered",
              {{"target", target_name}, {"event_id", event_id}, {"status", std::to_string(outcome.last_status)}});
    finish(it);
    co_return;
  }
  if (target) target->metrics->webhook_failed->Increment();
  it->failures++;
  it->in_flight = false;
  it->next_attempt =
      steady::now() + random_between(nanoseconds{0}, exporters::backoff_bound(outbox_rounds, it->failures));
  log_event(log_level::warn, "webhook delivery failed; will retry",
            {{"target", target_name}, {"event_id", event_id}, {"attempt", std::to_string(it->failures)},
             {"error", outcome.last_error}});
}

void event_pipeline::finish(pending_list::iterator it) {
  if (auto error = outbox_.remove(it->event)) state_.report_error("cannot remove delivered event", *error);
  pending_.erase(it);
  publish_depth();
}

}  // namespace watchpost::agent::detail
