#pragma once
// The probing half of the agent: `threads` workers, each with its own io_context and a fixed
// partition of the targets. A worker wakes once per batch window and spawns a probe for each due
// target unless that target's previous probe is still running (then the tick is skipped and
// counted), so a slow target never delays another.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime.hpp"

namespace watchpost::agent::detail {

struct worker;
struct probe_context;

class event_pipeline;

class scheduler {
 public:
  // `events` raises the events of each probe's SLO decisions (on the worker, target locked).
  scheduler(agent_metrics& metrics, tls_contexts& tls, event_pipeline& events);
  ~scheduler();
  // Builds the clients and starts probing `targets` (already restored) under `config`.
  void start(const std::shared_ptr<const agent_config>& config, const target_list& targets);
  // Asks the workers to stop and waits, without blocking the calling thread (the control thread
  // keeps answering /healthz), until their in-flight probes have ended (each is bounded by its
  // timeout) or `grace` has passed; probes still running then are abandoned.
  boost::asio::awaitable<void> wind_down(nanoseconds grace);
  // Joins the workers (at once after wind_down) and closes the targets' connections.
  void stop(const target_list& targets);
  // The largest lateness of a worker wake-up since the last call.
  std::int64_t take_max_lag_ns();

 private:
  tls_contexts& tls_;
  std::unique_ptr<probe_context> context_;
  std::vector<std::unique_ptr<worker>> workers_;
};

}  // namespace watchpost::agent::detail
