// The agent's run loop. Threads: one control thread (signals, status server, webhook
// dispatcher, snapshots) and `threads` workers, each with its own io_context and a fixed
// partition of the targets. A worker's scheduler wakes once per batch window and spawns a
// probe for each due target unless that target's previous probe is still running (then the
// tick is skipped and counted), so a slow target never delays another.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <list>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <thread>

#include "runtime.hpp"
#include "server.hpp"
#include "watchpost/agent/agent.hpp"
#include "watchpost/agent/outbox.hpp"
#include "watchpost/agent/webhook.hpp"
#include "watchpost/common/config_file.hpp"
#include "watchpost/common/text_file.hpp"
#include "watchpost/probes/dns_resolver.hpp"
#include "watchpost/probes/http_client.hpp"
#include "watchpost/probes/suite.hpp"

namespace watchpost::agent {

namespace asio = boost::asio;
using namespace detail;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto dispatch_tick = std::chrono::milliseconds(100);
constexpr auto snapshot_period = std::chrono::seconds(5);
// Uptime windows of targets without an SLO are written less often: at 10,000 targets the
// file is tens of MB. SIGTERM and reloads always write them; a kill -9 loses at most this.
constexpr int uptime_snapshot_every = 60;  // snapshot periods: 5 minutes
constexpr int max_concurrent_deliveries = 16;
// Per-event retry schedule of the outbox: one attempt per round, rounds spaced by
// exponential backoff with full jitter, forever (the event stays on disk until a 2xx).
constexpr retry_policy outbox_rounds{1, std::chrono::milliseconds(500), std::chrono::seconds(10)};

nanoseconds uniform(nanoseconds low, nanoseconds high) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  if (high <= low) return low;
  return nanoseconds{std::uniform_int_distribution<std::int64_t>(low.count(), high.count())(rng)};
}

std::string join_servers(const std::vector<std::string>& servers) {
  std::string out;
  for (const auto& s : servers) out.append(out.empty() ? "" : ",").append(s);
  return out;
}

steady::time_point align_up(steady::time_point t, nanoseconds grid) {
  if (grid <= nanoseconds{0}) return t;
  return steady::time_point{(t.time_since_epoch() + grid - nanoseconds{1}) / grid * grid};
}

std::int64_t millis(wall_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void log_exception(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log_event(log_level::error, what, {{"error", ex.what()}});
  }
}

// The next start of one of a worker's targets.
struct scheduled_start {
  steady::time_point at;
  std::size_t target;  // index into worker::targets
  bool operator>(const scheduled_start& o) const { return at > o.at; }
};

// One timer per worker over a heap of start times (not one timer per target): fewer timers
// keep Asio's timer queue short for the per-operation deadlines of the probes in flight.
struct worker {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{io.get_executor()};
  std::thread thread;
  std::vector<target_runtime*> targets;
  std::priority_queue<scheduled_start, std::vector<scheduled_start>, std::greater<>> starts;
  asio::steady_timer tick{io};
  // The worker's targets share it (and its cache); destroyed before `io`, which drives it.
  std::shared_ptr<probes::dns_resolver> resolver;
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> max_lag_ns{0};
};

// Decides the probe's outcome from the response and the target's expectations.
probes::failure_kind judge(const target_config& t, const probes::result& res) {
  if (!res.ok()) return res.failure;
  const auto& e = t.expect;
  if (e.status_ranges.empty()) {
    if (res.status >= 400) return probes::failure_kind::status;
  } else {
    bool matched = false;
    for (auto [low, high] : e.status_ranges) matched = matched || (res.status >= low && res.status <= high);
    if (!matched) return probes::failure_kind::status;
  }
  if (e.max_latency && res.timings.total > *e.max_latency) return probes::failure_kind::assertion;
  if (!e.body_contains.empty() && res.body.find(e.body_contains) == std::string::npos)
    return probes::failure_kind::assertion;
  return probes::failure_kind::none;
}

class agent_process {
 public:
  agent_process(run_options options, agent_config config)
      : options_(std::move(options)), config_(std::make_shared<const agent_config>(std::move(config))),
        outbox_(config_->state_dir + "/outbox") {}

  int run() {
    if (auto error = ensure_directory(config_->state_dir)) state_error("state_dir unusable", *error);
    // Installed before READY so a signal sent right after it is never fatal.
    asio::signal_set signals(control_, SIGTERM, SIGINT, SIGHUP);
    status_server server(control_, config_->listen_host, config_->listen_port, config_->listen_security,
                         [this](std::string_view path) { return handle(path); });
    std::printf("READY listen=%s:%u\n", config_->listen_host.c_str(), server.port());
    std::fflush(stdout);
    load_outbox();
    start_workers(read_snapshots());
    log_event(log_level::info, "agent started",
              {{"targets", std::to_string(config_->targets.size())}, {"threads", std::to_string(config_->threads)},
               {"listen", config_->listen_host + ":" + std::to_string(server.port())}});
    asio::co_spawn(control_, handle_signals(signals, server), [](std::exception_ptr e) { log_exception(e, "signal handler failed"); });
    asio::co_spawn(control_, dispatch_loop(), [](std::exception_ptr e) { log_exception(e, "webhook dispatcher failed"); });
    asio::co_spawn(control_, snapshot_loop(), [](std::exception_ptr e) { log_exception(e, "snapshot writer failed"); });
    control_.run();
    return 0;
  }

 private:
  // ---- status server (control thread) ----
  http_reply handle(std::string_view path) {
    if (path == "/metrics") {
      std::int64_t lag = 0;
      for (auto& w : workers_) lag = std::max(lag, w->max_lag_ns.exchange(0));
      metrics_.scheduler_lag_seconds().Set(static_cast<double>(lag) / 1e9);
      refresh_uptime_gauges();
      return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_.serialize()};
    }
    if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/api/status") return {200, "application/json", render_status_json(*config_, targets_)};
    if (path == "/status" || path == "/") return {200, "text/html; charset=utf-8", render_status_html(*config_, targets_)};
    return {404, "text/plain; charset=utf-8", "not found (try /metrics, /status, /api/status, /healthz)\n"};
  }

  // Uptime sums hundreds of slices: done once per scrape, not once per probe.
  void refresh_uptime_gauges() {
    const auto now = wall_clock::now();
    for (const auto& t : targets_) {
      double uptime_1h = 1, uptime_24h = 1;
      {
        std::lock_guard lock(t->mutex);
        uptime_1h = t->window.uptime_ratio(now, std::chrono::hours(1));
        uptime_24h = t->window.uptime_ratio(now, std::chrono::hours(24));
      }
      t->metrics->uptime_1h->Set(uptime_1h);
      t->metrics->uptime_24h->Set(uptime_24h);
    }
  }

  // ---- workers ----
  void start_workers(const std::vector<std::string>& snapshots) {
    auto& cfg = *config_;
    std::map<std::string, target_window_state*> states;
    for (const auto& tc : cfg.targets) {
      auto t = std::make_unique<target_runtime>();
      t->config = tc;
      t->objectives = objectives_of(tc.slo);
      for (const auto& w : tc.on_breach) t->cooldown = std::max(t->cooldown, w.cooldown);
      t->metrics = metrics_.add_target(tc);
      t->window = target_window_state::make(tc);
      states[tc.name] = &t->window;
      targets_.push_back(std::move(t));
    }
    for (const auto& text : snapshots) restore_states(text, states);
    const int threads = std::max(1, std::min<int>(cfg.threads, static_cast<int>(std::max<std::size_t>(1, targets_.size()))));
    probes::resolver_options dns;
    dns.servers = join_servers(cfg.dns.servers);
    dns.cache_ttl = cfg.dns.cache_ttl;
    nanoseconds shortest = nanoseconds::max();
    for (const auto& tc : cfg.targets) shortest = std::min(shortest, tc.timeout);
    dns.try_timeout = probes::dns_try_timeout_for(shortest);  // a dropped query is retried within any target's timeout
    for (int i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<worker>());
      workers_.back()->resolver = std::make_shared<probes::dns_resolver>(workers_.back()->io.get_executor(), dns);
    }
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      worker& w = *workers_[i % workers_.size()];
      target_runtime& t = *targets_[i];
      probes::client_options options;
      options.total_timeout = t.config.timeout;
      options.connect_timeout = std::min(t.config.timeout, options.connect_timeout);
      options.tls_timeout = std::min(t.config.timeout, options.tls_timeout);
      options.keep_alive = t.config.keep_alive;
      options.max_body_bytes = 1024 * 1024;
      // Shared by the https targets (a client left without one loads the system trust store
      // itself: ~1 MB and ms of CPU); plain http targets never need one.
      if (t.config.request.target.tls) options.tls_context = tls_context(t.config.insecure);
      options.tls.insecure = t.config.insecure;
      options.resolver = w.resolver;
      t.client = std::make_unique<probes::http_client>(w.io.get_executor(), options);
      // A random phase spreads thousands of targets evenly over the interval.
      w.starts.push({steady::now() + uniform(nanoseconds{0}, t.config.interval), w.targets.size()});
      w.targets.push_back(&t);
    }
    for (auto& w : workers_) {
      asio::co_spawn(w->io, schedule_loop(*w, config_), [](std::exception_ptr e) { log_exception(e, "scheduler failed"); });
      w->thread = std::thread([&io = w->io] { io.run(); });
    }
  }

  // Lets in-flight probes finish (each is bounded by its timeout), then joins.
  void stop_workers() {
    for (auto& w : workers_) {
      w->stopping = true;
      asio::post(w->io, [&w = *w] { w.tick.cancel(); });
      w->guard.reset();
    }
    for (auto& w : workers_) w->thread.join();
    // The clients' sockets belong to the workers' io_contexts: close them while those still exist.
    for (auto& t : targets_) t->client.reset();
    workers_.clear();
  }

  void drop_targets() {
    for (auto& t : targets_) metrics_.remove_target(*t->metrics);
    targets_.clear();
  }

  // Wakes once per batch window and starts every target due by then; a target whose previous
  // probe is still running is skipped (and counted) for this round.
  asio::awaitable<void> schedule_loop(worker& w, std::shared_ptr<const agent_config> cfg) {
    auto executor = co_await asio::this_coro::executor;
    while (!w.stopping && !w.starts.empty()) {
      const auto fire = align_up(w.starts.top().at, cfg->batch_window);
      w.tick.expires_at(fire);
      co_await w.tick.async_wait(asio::as_tuple(asio::use_awaitable));
      if (w.stopping) break;
      const auto now = steady::now();
      const std::int64_t lag = std::chrono::duration_cast<nanoseconds>(now - fire).count();
      if (lag > w.max_lag_ns.load(std::memory_order_relaxed)) w.max_lag_ns.store(lag, std::memory_order_relaxed);
      while (!w.starts.empty() && align_up(w.starts.top().at, cfg->batch_window) <= now) {
        const scheduled_start due = w.starts.top();
        w.starts.pop();
        target_runtime& t = *w.targets[due.target];
        start_probe(t, executor, cfg);
        const nanoseconds jitter = t.config.jitter;
        auto next = due.at + t.config.interval + uniform(-jitter, jitter);
        if (next < now) next = now + t.config.interval;  // fell behind: skip ahead rather than burst
        w.starts.push({next, due.target});
      }
    }
  }

  void start_probe(target_runtime& t, const asio::any_io_executor& executor, const std::shared_ptr<const agent_config>& cfg) {
    if (t.in_flight) {
      t.metrics->skipped->Increment();
      std::lock_guard lock(t.mutex);
      ++t.view.skipped;
      return;
    }
    t.in_flight = true;
    asio::co_spawn(executor, probe_once(t, cfg), [&t](std::exception_ptr e) {
      t.in_flight = false;
      log_exception(e, "probe failed unexpectedly");
    });
  }

  // What one scheduled run amounts to, whether it was a single request or a suite.
  struct run_verdict {
    bool ok = false;
    nanoseconds duration{0};
    std::string failure;  // a kind name, prefixed by the check name for suites: never raw text
  };

  // Per-check counters, the target's phase histograms and its certificate expiry.
  void record_check(target_runtime& t, std::size_t check, probes::failure_kind kind, const probes::result& res) {
    target_metrics& m = *t.metrics;
    m.checks[check].success->Set(kind == probes::failure_kind::none ? 1 : 0);
    m.checks[check].total[result_index(kind)]->Increment();
    const auto& tm = res.timings;
    const nanoseconds phases[] = {tm.resolve, tm.connect, tm.tls, tm.ttfb, tm.transfer, tm.total};
    for (std::size_t i = 0; i < std::size(phases); ++i)
      if (phases[i] > nanoseconds{0} || i + 1 == std::size(phases))
        metrics_.observe_phase(m, t.config.name, i, to_seconds(phases[i]));
    if (res.tls.cert_not_after)
      metrics_.set_cert_expiry(m, t.config.name,
                               std::chrono::duration<double>(res.tls.cert_not_after->time_since_epoch()).count());
  }

  asio::awaitable<run_verdict> run_single_probe(target_runtime& t) {
    const probes::result res = co_await t.client->send(t.config.request);
    const probes::failure_kind kind = judge(t.config, res);
    record_check(t, 0, kind, res);
    const bool ok = kind == probes::failure_kind::none;
    co_return run_verdict{ok, res.timings.total, ok ? std::string() : std::string(probes::to_string(kind))};
  }

  // A suite run is good only if every check passed; skipped checks (after a failed
  // dependency) count as down and are not counted in watchpost_probe_total.
  asio::awaitable<run_verdict> run_suite_checks(target_runtime& t) {
    const probes::suite_result run =
        co_await probes::run_suite(*t.config.suite, t.config.suite_base_url, t.client->options());
    run_verdict verdict{true, run.duration, {}};
    for (std::size_t i = 0; i < run.checks.size() && i < t.metrics->checks.size(); ++i) {
      const probes::check_outcome& c = run.checks[i];
      if (c.skipped)
        t.metrics->checks[i].success->Set(0);
      else
        record_check(t, i, c.kind, c.response);
      if (c.passed()) continue;
      if (verdict.ok) verdict.failure = c.name + ": " + (c.skipped ? "skipped" : std::string(probes::to_string(c.kind)));
      verdict.ok = false;
    }
    co_return verdict;
  }

  asio::awaitable<void> probe_once(target_runtime& t, std::shared_ptr<const agent_config> cfg) {
    metrics_.probes_in_flight().Increment();
    run_verdict verdict;  // not a ?: of two co_awaits: GCC 12 frees a temporary twice there
    if (t.config.suite)
      verdict = co_await run_suite_checks(t);
    else
      verdict = co_await run_single_probe(t);
    metrics_.probes_in_flight().Decrement();
    const bool ok = verdict.ok;
    const bool slow = t.config.slo.latency_quantile && verdict.duration > t.config.slo.latency_bound;
    target_metrics& m = *t.metrics;

    const auto now = wall_clock::now();
    evaluation eval;
    {
      std::lock_guard lock(t.mutex);
      t.window.record(now, ok, slow);
      if (!t.objectives.empty()) {
        eval = evaluate(t.config, t.window, now, t.cooldown);
        t.burn = eval.burn;
      }
      auto& v = t.view;
      v.probed = true;
      v.up = ok;
      ++v.probes;
      if (!ok) {
        v.last_failure = verdict.failure;
        v.last_failure_ms = millis(now);
      }
      v.recent_seconds[v.recent_count++ % v.recent_seconds.size()] = static_cast<float>(to_seconds(verdict.duration));
      for (std::size_t i = 0; i < t.objectives.size(); ++i) m.slos[i].breached->Set(t.window.slos[i].breached ? 1 : 0);
    }
    for (std::size_t i = 0; i < eval.burn.size(); ++i)
      for (std::size_t j = 0; j < eval.burn[i].size() && j < m.slos[i].burn.size(); ++j)
        m.slos[i].burn[j]->Set(eval.burn[i][j].burn);
    if (!eval.decisions.empty()) {
      std::vector<outbox_event> events;
      for (const auto& d : eval.decisions) {
        log_event(d.kind == slo_event_kind::breached ? log_level::warn : log_level::info,
                  d.kind == slo_event_kind::breached ? "slo breached" : "slo resolved",
                  {{"target", t.config.name}, {"slo", t.objectives[d.slo_index].name}, {"event_id", d.event_id},
                   {"window", d.window}, {"notify", d.notify ? "true" : "false (cooldown)"}});
        if (!d.notify) continue;
        const std::string body = render_event(*cfg, t, d, now);
        for (std::size_t i = 0; i < t.config.on_breach.size(); ++i) events.push_back({d.event_id, t.config.name, i, body});
      }
      asio::post(control_, [this, events = std::move(events)]() mutable { accept_events(std::move(events)); });
    }
    t.in_flight = false;
  }

  // ---- durable state (control thread) ----
  void state_error(const char* what, const std::string& error) {
    metrics_.state_write_errors().Increment();
    log_event(log_level::error, what, {{"error", error}});
  }

  std::string snapshot_path(bool slo_targets) const {
    return config_->state_dir + (slo_targets ? "/slo-state.json" : "/uptime-state.json");
  }

  std::vector<std::string> read_snapshots() const {
    std::vector<std::string> texts;
    for (bool slo_targets : {true, false})
      if (auto text = read_text_file(snapshot_path(slo_targets))) texts.push_back(std::move(*text));
    return texts;
  }

  // The window state of the targets with an SLO (or of those without one) to its file. Each
  // target is locked only while its own entry is written, so probes never wait for the file.
  void write_snapshot(bool slo_targets = true) {
    state_snapshot snapshot;
    for (const auto& t : targets_) {
      if (t->objectives.empty() == slo_targets) continue;
      std::lock_guard lock(t->mutex);
      snapshot.add(t->config.name, t->window);
    }
    if (snapshot.empty()) return;
    if (auto error = write_file_durably(snapshot_path(slo_targets), snapshot.text()))
      state_error(slo_targets ? "cannot write SLO snapshot" : "cannot write uptime snapshot", *error);
  }

  // The breach state is made durable before its events, so a crash cannot re-fire it under a new id.
  void accept_events(std::vector<outbox_event> events) {
    write_snapshot();
    for (auto& e : events) {
      if (auto error = outbox_.put(e)) state_error("cannot persist webhook event; delivering from memory", *error);
      pending_.push_back({std::move(e)});
    }
    metrics_.outbox_depth().Set(static_cast<double>(pending_.size()));
  }

  void load_outbox() {
    std::vector<std::string> errors;
    for (auto& e : outbox_.load(errors)) pending_.push_back({std::move(e)});
    for (const auto& error : errors) log_event(log_level::warn, "outbox", {{"error", error}});
    if (!pending_.empty()) log_event(log_level::info, "pending webhook events restored", {{"count", std::to_string(pending_.size())}});
    metrics_.outbox_depth().Set(static_cast<double>(pending_.size()));
  }

  asio::awaitable<void> snapshot_loop() {
    asio::steady_timer timer(control_);
    for (int round = 1;; ++round) {
      timer.expires_after(snapshot_period);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      write_snapshot();
      if (round % uptime_snapshot_every == 0) write_snapshot(false);
    }
  }

  // ---- webhook dispatch (control thread) ----
  struct pending_event {
    outbox_event event;
    int failures = 0;
    steady::time_point next_attempt{};
    bool in_flight = false;
  };

  target_runtime* find_target(const std::string& name) {
    for (auto& t : targets_)
      if (t->config.name == name) return t.get();
    return nullptr;
  }

  asio::awaitable<void> dispatch_loop() {
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

  asio::awaitable<void> deliver(std::list<pending_event>::iterator it) {
    const outbox_event& e = it->event;
    target_runtime* target = find_target(e.target);
    if (!target || e.webhook_index >= target->config.on_breach.size()) {
      log_event(log_level::warn, "webhook event dropped: its target or webhook is no longer configured",
                {{"target", e.target}, {"event_id", e.event_id}});
      finish(it);
      co_return;
    }
    const webhook_config& hook = target->config.on_breach[e.webhook_index];
    const webhook_endpoint endpoint{hook.url, hook.secret, hook.timeout};
    // Copies: a reload may replace `target` while the request is in flight.
    const std::string event_id = e.event_id, body = e.body, target_name = e.target;
    auto tls = tls_context(false);
    const delivery_outcome outcome = co_await deliver_webhook(endpoint, event_id, body, outbox_rounds, tls);
    target = find_target(target_name);
    if (outcome.delivered) {
      if (target) target->metrics->webhook_delivered->Increment();
      log_event(log_level::info, "webhook delivered", {{"target", target_name}, {"event_id", event_id},
                                                       {"status", std::to_string(outcome.last_status)}});
      finish(it);
      co_return;
    }
    if (target) target->metrics->webhook_failed->Increment();
    it->failures++;
    it->in_flight = false;
    it->next_attempt = steady::now() + uniform(nanoseconds{0}, backoff_bound(outbox_rounds, it->failures));
    log_event(log_level::warn, "webhook delivery failed; will retry",
              {{"target", target_name}, {"event_id", event_id}, {"attempt", std::to_string(it->failures)},
               {"error", outcome.last_error}});
  }

  void finish(std::list<pending_event>::iterator it) {
    if (auto error = outbox_.remove(it->event)) state_error("cannot remove delivered event", *error);
    pending_.erase(it);
    metrics_.outbox_depth().Set(static_cast<double>(pending_.size()));
  }

  // ---- signals and reload (control thread) ----
  asio::awaitable<void> handle_signals(asio::signal_set& signals, status_server& server) {
    while (true) {
      auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (sig == SIGHUP) {
        reload();
        continue;
      }
      log_event(log_level::info, "shutting down: draining in-flight probes");
      stop_workers();
      write_snapshot();
      write_snapshot(false);
      server.stop();
      log_event(log_level::info, "stopped");
      control_.stop();
      co_return;
    }
  }

  void reload() {
    std::shared_ptr<const agent_config> next;
    try {
      next = std::make_shared<const agent_config>(load_config(options_.config_path));
    } catch (const std::exception& e) {
      metrics_.reloads(false).Increment();
      log_event(log_level::error, "config reload rejected; keeping the running config", {{"error", e.what()}});
      return;
    }
    if (next->listen_host != config_->listen_host || next->listen_port != config_->listen_port ||
        next->listen_security != config_->listen_security || next->state_dir != config_->state_dir)
      log_event(log_level::warn, "listen, listen_basic_auth, listen_tls and state_dir changes take effect after a restart");
    stop_workers();
    state_snapshot carried;  // the workers are stopped: no locks needed
    for (const auto& t : targets_) carried.add(t->config.name, t->window);
    drop_targets();
    auto merged = std::make_shared<agent_config>(*next);
    merged->listen_host = config_->listen_host;
    merged->listen_port = config_->listen_port;
    merged->listen_security = config_->listen_security;
    merged->state_dir = config_->state_dir;
    config_ = std::move(merged);
    start_workers({carried.text()});
    metrics_.reloads(true).Increment();
    log_event(log_level::info, "config reloaded", {{"targets", std::to_string(config_->targets.size())}});
  }

  std::shared_ptr<asio::ssl::context> tls_context(bool insecure) {
    auto& slot = insecure ? tls_insecure_ : tls_verify_;
    if (!slot) slot = probes::make_tls_context({insecure, {}});
    return slot;
  }

  run_options options_;
  asio::io_context control_{1};
  agent_metrics metrics_;
  std::shared_ptr<const agent_config> config_;
  std::vector<std::unique_ptr<target_runtime>> targets_;
  std::vector<std::unique_ptr<worker>> workers_;
  outbox outbox_;
  std::list<pending_event> pending_;
  std::shared_ptr<asio::ssl::context> tls_verify_, tls_insecure_;
};

}  // namespace

int run_agent(const run_options& options) {
  set_log_format(options.logs);
  agent_config config = load_config(options.config_path);
  // Signals are handled by the control loop; block them before threads start so no worker
  // thread is picked to run a default handler.
  agent_process process(options, std::move(config));
  return process.run();
}

}  // namespace watchpost::agent
