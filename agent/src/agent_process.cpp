// The agent's run loop and wiring. Threads: one control thread (signals, status server, event
// pipeline, snapshots, reloads), the scheduler's workers, which probe, and the status server's
// /metrics render thread.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <map>

#include "event_pipeline.hpp"
#include "http_routes.hpp"
#include "runtime.hpp"
#include "scheduler.hpp"
#include "server.hpp"
#include "state_store.hpp"
#include "watchpost/agent/agent.hpp"
#include "watchpost/probes/http_client.hpp"  // target_runtime owns its client

namespace watchpost::agent {

namespace asio = boost::asio;
using namespace detail;

namespace {

constexpr auto snapshot_period = std::chrono::seconds(5);
// Uptime windows of targets without an SLO are written less often: at 10,000 targets the
// file is tens of MB. SIGTERM and reloads always write them; a kill -9 loses at most this.
constexpr int uptime_snapshot_every = 60;  // snapshot periods: 5 minutes

// "shard 1/3: 10 of 31 targets"; a warning when the shard got none of them.
void log_shard(const shard_selection& s, std::size_t own) {
  log_event(own == 0 && s.all_targets > 0 ? log_level::warn : log_level::info,
            "shard " + std::to_string(s.shard.index) + "/" + std::to_string(s.shard.count) + ": " +
                std::to_string(own) + " of " + std::to_string(s.all_targets) + " targets");
}

class agent_process {
 public:
  agent_process(run_options options, agent_config config, shard_selection shard)
      : options_(std::move(options)),
        shard_(shard),
        config_(std::make_shared<const agent_config>(std::move(config))),
        state_(config_->state_dir, metrics_),
        events_(control_, config_->state_dir, targets_, metrics_, state_, tls_),
        scheduler_(metrics_, tls_, events_),
        routes_(config_, targets_, metrics_, scheduler_, targets_mutex_) {}

  int run() {
    state_.prepare();
    // Installed before READY so a signal sent right after it is never fatal.
    asio::signal_set signals(control_, SIGTERM, SIGINT, SIGHUP);
    descriptor_limit_ = raise_descriptor_limit();
    const int max_clients =
        client_cap(config_->listen_max_connections, descriptor_limit_, config_->targets.size());
    status_server server(control_, config_->listen_host, config_->listen_port, config_->listen_security,
                         {[this](std::string_view path) { return routes_(path); },
                          [this] { return routes_.render_metrics(); }},
                         max_clients);
    // After the bind: a start that fails says one line, the reason.
    log_event(log_level::info, "descriptors",
              {{"nofile", std::to_string(descriptor_limit_)},
               {"listen_max_connections", std::to_string(max_clients)}});
    server_ = &server;
    std::printf("READY listen=%s:%u\n", config_->listen_host.c_str(), server.port());
    std::fflush(stdout);
    events_.configure(*config_);
    events_.restore(*config_);
    {
      const auto snapshots = state_.read();
      std::lock_guard lock(targets_mutex_);
      start_targets(snapshots, true);
    }
    log_shard(shard_, config_->targets.size());
    metrics_.set_shard(shard_.shard.index, shard_.shard.count);
    log_event(log_level::info, "agent started",
              {{"targets", std::to_string(config_->targets.size())},
               {"threads", std::to_string(config_->threads)},
               {"listen", config_->listen_host + ":" + std::to_string(server.port())}});
    asio::co_spawn(control_, handle_signals(signals, server),
                   [](std::exception_ptr e) { log_exception(e, "signal handler failed"); });
    events_.start();
    asio::co_spawn(control_, snapshot_loop(),
                   [](std::exception_ptr e) { log_exception(e, "snapshot writer failed"); });
    control_.run();
    return 0;
  }

 private:
  // Builds the targets' runtime state from the config, restores their windows from the
  // snapshot texts and starts probing them. With targets_mutex_ held, as for drop_targets.
  // At start, the pending outbox is reconciled into the restored state first.
  void start_targets(const std::vector<std::string>& snapshots, bool reconcile = false) {
    std::map<std::string, target_window_state*> states;
    for (const auto& tc : config_->targets) {
      auto t = std::make_unique<target_runtime>(tc);
      t->objectives = objectives_of(tc.slo);
      t->metrics = metrics_.add_target(tc);
      t->window = target_window_state::make(tc);
      states[tc.name] = &t->window;
      targets_.push_back(std::move(t));
    }
    for (const auto& text : snapshots) restore_states(text, states);
    if (reconcile) events_.reconcile_states(targets_);
    scheduler_.start(config_, targets_);
  }

  void drop_targets() {
    for (auto& t : targets_) metrics_.remove_target(*t->metrics);
    targets_.clear();
  }

  asio::awaitable<void> snapshot_loop() {
    asio::steady_timer timer(control_);
    for (int round = 1;; ++round) {
      timer.expires_after(snapshot_period);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      state_.write(targets_);
      if (round % uptime_snapshot_every == 0) state_.write(targets_, false);
    }
  }

  asio::awaitable<void> handle_signals(asio::signal_set& signals, status_server& server) {
    while (true) {
      auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (sig == SIGHUP) {
        co_await reload();
        continue;
      }
      log_event(log_level::info, "shutting down: draining in-flight probes");
      co_await scheduler_.wind_down(drain_grace());
      {
        std::lock_guard lock(targets_mutex_);
        scheduler_.stop(targets_);
      }
      events_.stop();
      state_.write(targets_);
      state_.write(targets_, false);
      server.stop();
      log_event(log_level::info, "stopped");
      control_.stop();
      co_return;
    }
  }

  // Every probe ends within its target's timeout; a second more covers the bookkeeping after it.
  nanoseconds drain_grace() const {
    nanoseconds longest{0};
    for (const auto& t : config_->targets) longest = std::max(longest, t.timeout);
    return longest + std::chrono::seconds(1);
  }

  asio::awaitable<void> reload() {
    std::shared_ptr<const agent_config> next;
    shard_selection shard;
    try {
      agent_config loaded = load_config(options_.config_path);
      shard = keep_shard_targets(loaded, options_.shard);
      next = std::make_shared<const agent_config>(std::move(loaded));
    } catch (const std::exception& e) {
      metrics_.reloads(false).Increment();
      log_event(log_level::error, "config reload rejected; keeping the running config",
                {{"error", e.what()}});
      co_return;
    }
    if (next->listen_host != config_->listen_host || next->listen_port != config_->listen_port ||
        next->listen_security != config_->listen_security || next->state_dir != config_->state_dir)
      log_event(log_level::warn,
                "listen, listen_basic_auth, listen_tls and state_dir changes take effect after a restart");
    // Awaited, not joined: /healthz, /status and webhook dispatch go on while probes drain.
    co_await scheduler_.wind_down(drain_grace());
    std::lock_guard lock(targets_mutex_);  // the /metrics renderer reads targets and workers
    scheduler_.stop(targets_);
    state_snapshot carried;  // the workers are stopped: no locks needed
    for (const auto& t : targets_) carried.add(t->config.name, t->window);
    drop_targets();
    auto merged = std::make_shared<agent_config>(*next);
    merged->listen_host = config_->listen_host;
    merged->listen_port = config_->listen_port;
    merged->listen_security = config_->listen_security;
    merged->state_dir = config_->state_dir;
    config_ = std::move(merged);
    start_targets({carried.text()});
    events_.configure(*config_);
    events_.reloaded();
    server_->set_max_connections(
        client_cap(config_->listen_max_connections, descriptor_limit_, config_->targets.size()));
    shard_ = shard;
    metrics_.set_shard(shard_.shard.index, shard_.shard.count);
    log_shard(shard_, config_->targets.size());
    metrics_.reloads(true).Increment();
    log_event(log_level::info, "config reloaded", {{"targets", std::to_string(config_->targets.size())}});
  }

  run_options options_;
  shard_selection shard_;
  asio::io_context control_{1};
  agent_metrics metrics_;
  std::shared_ptr<const agent_config> config_;
  target_list targets_;
  tls_contexts tls_;
  state_store state_;
  event_pipeline events_;
  scheduler scheduler_;
  std::mutex targets_mutex_;  // see http_routes::render_metrics
  http_routes routes_;
  std::uint64_t descriptor_limit_ = 0;
  status_server* server_ = nullptr;  // run()'s, set before any reload
};

}  // namespace

int run_agent(const run_options& options) {
  set_log_format(options.logs);
  agent_config config = load_config(options.config_path);
  const shard_selection shard = keep_shard_targets(config, options.shard);
  agent_process process(options, std::move(config), shard);
  return process.run();
}

}  // namespace watchpost::agent
