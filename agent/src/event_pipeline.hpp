#pragma once
// The rollback path after an SLO decision: raised events are stored in the outbox (one file
// each, on disk before the first attempt) and delivered by a dispatcher on the control thread,
// retried with backoff until a 2xx. Everything here runs on the control thread.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <list>
#include <vector>

#include "runtime.hpp"
#include "state_store.hpp"
#include "watchpost/agent/outbox.hpp"

namespace watchpost::agent::detail {

class event_pipeline {
 public:
  // `targets` is the control thread's live list: a reload replaces its entries.
  event_pipeline(boost::asio::io_context& control, const std::string& state_dir, const target_list& targets,
                 agent_metrics& metrics, state_store& state, tls_contexts& tls);
  // Loads the events a previous run left pending.
  void restore();
  // Starts the dispatcher (runs until the control io_context stops).
  void start();
  // Events raised by a worker's SLO evaluation, in the order raised.
  void accept(std::vector<outbox_event> events);

 private:
  struct pending_event {
    outbox_event event;
    int failures = 0;
    std::chrono::steady_clock::time_point next_attempt{};
    bool in_flight = false;
  };
  using pending_list = std::list<pending_event>;

  boost::asio::awaitable<void> dispatch_loop();
  boost::asio::awaitable<void> deliver(pending_list::iterator it);
  void finish(pending_list::iterator it);
  target_runtime* find_target(const std::string& name) const;
  void publish_depth();

  boost::asio::io_context& control_;
  const target_list& targets_;
  agent_metrics& metrics_;
  state_store& state_;
  tls_contexts& tls_;
  outbox outbox_;
  pending_list pending_;
};

}  // namespace watchpost::agent::detail
