// The dispatcher half of the event pipeline (see event_pipeline.hpp): per (target, hook) the
// oldest pending event is attempted when its backoff allows; later ones of that key wait.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "event_pipeline.hpp"
#include "watchpost/agent/log.hpp"
#include "watchpost/exporters/webhook.hpp"

namespace watchpost::agent::detail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto dispatch_tick = std::chrono::milliseconds(100);
constexpr int max_concurrent_deliveries = 16;
// Per-event retry schedule of the outbox: one attempt per round, rounds spaced by
// exponential backoff with full jitter, until a 2xx, a dead letter or max_event_age.
constexpr exporters::retry_policy outbox_rounds{1, std::chrono::milliseconds(500), std::chrono::seconds(10)};

std::string order_key(const outbox_event& e) { return e.target + '\n' + e.hook; }

}  // namespace

void event_pipeline::start() {
  asio::co_spawn(control_, dispatch_loop(),
                 [](std::exception_ptr e) { log_exception(e, "webhook dispatcher failed"); });
}

// For a hook with collapse_resolved_pairs, a breached about to be sent whose resolved is pending
// too goes nowhere, with its resolved. Checked before an attempt, so the breached is never in flight.
bool event_pipeline::collapse(pending_list::iterator breached, const webhook_config& hook) {
  if (breached->event.resolved || !hook.collapse_resolved_pairs) return false;
  for (auto r = std::next(breached); r != pending_.end(); ++r) {
    if (!r->event.resolved || !same_breach(r->event, breached->event)) continue;
    log_event(
        log_level::info, "undelivered breached/resolved pair collapsed (collapse_resolved_pairs)",
        {{"target", r->event.target}, {"event_id", r->event.event_id}, {"hook", hook_label(r->event.hook)}});
    metrics_.events_dropped(drop_reason::collapsed).Increment(2);
    finish(r);
    finish(breached);
    return true;
  }
  return false;
}

asio::awaitable<void> event_pipeline::dispatch_loop() {
  asio::steady_timer timer(control_);
  while (true) {
    if (steady::now() >= next_flush_) flush_removals();
    start_due();
    timer.expires_after(dispatch_tick);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

// Starts the first pending event of each (target, hook) when its time has come: a later event
// of the same key waits until the earlier one is delivered or dropped.
void event_pipeline::start_due() {
  int running = 0;
  for (auto& p : pending_) running += p.in_flight;
  const auto now = steady::now();
  const std::int64_t now_ms = unix_millis(wall_clock::now());
  std::set<std::string> blocked;
  for (auto it = pending_.begin(); it != pending_.end() && running < max_concurrent_deliveries;) {
    auto next = std::next(it);
    const std::string key = order_key(it->event);
    if (blocked.contains(key)) {
      it = next;
      continue;
    }
    if (it->in_flight || it->next_attempt > now) {
      blocked.insert(key);
    } else if (now_ms - it->event.raised_ms > max_age_ms_) {
      if (target_runtime* t = find_target(it->event.target))
        metrics_.count_delivery(*t->metrics, delivery_result::expired);
      drop(it, drop_reason::expired, "webhook event expired (older than max_event_age): not delivered");
      next = pending_.begin();  // drop() may have removed `next`; the blocked keys stay skipped
    } else if (const webhook_config* hook = find_hook(it->event); !hook) {
      drop(it, drop_reason::hook_removed, "webhook event dropped: its target or hook was removed");
      next = pending_.begin();
    } else if (collapse(it, *hook)) {
      next = pending_.begin();
    } else {
      blocked.insert(key);
      it->in_flight = true;
      ++running;
      asio::co_spawn(control_, deliver(it),
                     [](std::exception_ptr e) { log_exception(e, "webhook delivery failed"); });
    }
    it = next;
  }
}

asio::awaitable<void> event_pipeline::deliver(pending_list::iterator it) {
  const webhook_config* hook = find_hook(it->event);
  if (!hook) {  // removed by a reload since start_due(): the next round drops it
    it->in_flight = false;
    co_return;
  }
  // Copies: a reload may replace the target and its hooks while the request is in flight.
  const exporters::webhook_endpoint endpoint{hook->url, hook->secret, hook->timeout};
  const std::string event_id = it->event.event_id, body = it->event.body, target_name = it->event.target;
  const exporters::delivery_outcome outcome =
      co_await exporters::deliver_webhook(endpoint, event_id, body, outbox_rounds, tls_.get(false));
  it->in_flight = false;
  target_runtime* target = find_target(target_name);
  auto count = [&](delivery_result r) {
    if (target) metrics_.count_delivery(*target->metrics, r);
  };
  if (outcome.delivered) {
    count(delivery_result::delivered);
    log_event(
        log_level::info, "webhook delivered",
        {{"target", target_name}, {"event_id", event_id}, {"status", std::to_string(outcome.last_status)}});
    finish(it);
    publish_depth();
    co_return;
  }
  if (outcome.permanent) {
    count(delivery_result::dead_letter);
    log_event(
        log_level::error, "webhook refused permanently: dead letter, no more retries",
        {{"target", target_name}, {"event_id", event_id}, {"status", std::to_string(outcome.last_status)}});
    drop(it, drop_reason::dead_letter, "webhook event dead-lettered");
    co_return;
  }
  count(delivery_result::failed);
  it->failures++;
  it->next_attempt =
      steady::now() + exporters::next_wait(random_between(nanoseconds{0}, exporters::backoff_bound(
                                                                              outbox_rounds, it->failures)),
                                           outcome.retry_after);
  log_event(log_level::warn, "webhook delivery failed; will retry",
            {{"target", target_name},
             {"event_id", event_id},
             {"attempt", std::to_string(it->failures)},
             {"error", outcome.last_error}});
}

}  // namespace watchpost::agent::detail
