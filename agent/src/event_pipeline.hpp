#pragma once
// The rollback path after an SLO decision: a worker raises the events of a decision into the
// outbox (one fsynced file each, before the state that says they were raised can be saved), and
// a dispatcher on the control thread delivers them per (target, hook) in the order raised,
// retried with backoff until a 2xx, a permanent refusal (dead letter) or max_event_age.
// The durability argument is at the top of event_pipeline.cpp; the dispatcher is event_dispatch.cpp.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <list>
#include <vector>

#include "runtime.hpp"
#include "state_store.hpp"
#include "watchpost/agent/outbox.hpp"

namespace watchpost::agent::detail {

// The hook as logs show it: scheme and authority only (a path or query may carry a token).
std::string hook_label(const std::string& url);
// Same target, hook, SLO and breach: a breached and its resolved.
bool same_breach(const outbox_event& a, const outbox_event& b);

class event_pipeline {
 public:
  // `targets` is the control thread's live list: a reload replaces its entries.
  event_pipeline(boost::asio::io_context& control, const std::string& state_dir, const target_list& targets,
                 agent_metrics& metrics, state_store& state, tls_contexts& tls);
  // max_event_age and max_outbox_events (at start and after each reload).
  void configure(const agent_config& config);
  // Loads the events a previous run left pending (`config` places those of the previous format).
  void restore(const agent_config& config);
  // Applies the restored pending events to the restored window states (see reconcile()),
  // before any probe runs.
  void reconcile_states(const target_list& targets) const;
  // Starts the dispatcher (runs until the control io_context stops).
  void start();

  // Worker thread, with t.mutex held (so no snapshot sees eval's new breach state before its
  // events are on disk): renders, stores and logs the events of eval's decisions.
  std::vector<outbox_event> raise(const agent_config& config, target_runtime& t, const evaluation& eval,
                                  wall_time now);
  // Any thread: hands raised events to the dispatcher.
  void post(std::vector<outbox_event> events);
  // Control thread, after a reload: drops the pending events whose target or hook is gone.
  void reloaded();
  // At shutdown, with the workers stopped: saves the state and removes finished events.
  void stop();

 private:
  struct pending_event {
    outbox_event event;
    int failures = 0;
    std::chrono::steady_clock::time_point next_attempt{};
    bool in_flight = false;
  };
  using pending_list = std::list<pending_event>;

  void accept(std::vector<outbox_event> events);
  boost::asio::awaitable<void> dispatch_loop();
  void start_due();
  boost::asio::awaitable<void> deliver(pending_list::iterator it);
  // Delivered or dropped: its file goes once a snapshot taken after it was raised is durable.
  void finish(pending_list::iterator it);
  void flush_removals();
  // Drops an undelivered event (and, for a breached, its pending resolved, and the hook's
  // open flag so none is raised later: a receiver never gets a resolved without its breached).
  void drop(pending_list::iterator it, drop_reason reason, const char* why);
  void close_hook(const outbox_event& breached) const;
  bool collapse(pending_list::iterator breached, const webhook_config& hook);
  target_runtime* find_target(const std::string& name) const;
  const webhook_config* find_hook(const outbox_event& e) const;
  void publish_depth();

  boost::asio::io_context& control_;
  const target_list& targets_;
  agent_metrics& metrics_;
  state_store& state_;
  tls_contexts& tls_;
  outbox outbox_;
  std::atomic<std::int64_t> max_age_ms_{3'600'000};
  pending_list pending_;  // in seq order
  std::vector<outbox_event> removals_;
  std::chrono::steady_clock::time_point next_flush_{};
};

}  // namespace watchpost::agent::detail
