// Workers and probe runs: see scheduler.hpp.
#include "scheduler.hpp"

#include <malloc.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <queue>
#include <thread>

#include "event_pipeline.hpp"
#include "watchpost/agent/log.hpp"
#include "watchpost/probes/dns_resolver.hpp"
#include "watchpost/probes/http_client.hpp"
#include "watchpost/probes/suite.hpp"

namespace watchpost::agent::detail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

// The next start of one of a worker's targets.
struct scheduled_start {
  steady::time_point at;
  std::size_t target;  // index into worker::targets
  bool operator>(const scheduled_start& o) const { return at > o.at; }
};

}  // namespace

// One timer per worker over a heap of start times (not one timer per target): fewer timers
// keep Asio's timer queue short for the per-operation deadlines of the probes in flight.
struct worker {
  // Sockets and timers are touched by this worker's thread only (other threads post to it, or
  // close the clients once it has joined): no locking of the reactor's descriptors.
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{io.get_executor()};
  std::thread thread;
  std::vector<target_runtime*> targets;
  std::priority_queue<scheduled_start, std::vector<scheduled_start>, std::greater<>> starts;
  asio::steady_timer tick{io};
  // The worker's targets share it (and its cache); destroyed before `io`, which drives it.
  std::shared_ptr<probes::dns_resolver> resolver;
  std::atomic<bool> stopping{false};
  std::atomic<bool> finished{false};  // io.run() returned
  std::atomic<std::int64_t> max_lag_ns{0};
};

// What a probe needs besides its target: shared by every worker, outlives them.
struct probe_context {
  agent_metrics& metrics;
  event_pipeline& events;
};

namespace {

std::string join_servers(const std::vector<std::string>& servers) {
  std::string out;
  for (const auto& s : servers) out.append(out.empty() ? "" : ",").append(s);
  return out;
}

steady::time_point align_up(steady::time_point t, nanoseconds grid) {
  if (grid <= nanoseconds{0}) return t;
  return steady::time_point{(t.time_since_epoch() + grid - nanoseconds{1}) / grid * grid};
}

// What one scheduled run amounts to, whether it was a single request or a suite.
struct run_verdict {
  bool ok = false;
  nanoseconds duration{0};
  std::string failure;  // a kind name, prefixed by the check name for suites: never raw text
};

// Per-check counters, the target's phase histograms and its certificate expiry.
void record_check(agent_metrics& metrics, target_runtime& t, std::size_t check, probes::failure_kind kind,
                  const probes::result& res) {
  target_metrics& m = *t.metrics;
  m.checks[check].success.set(kind == probes::failure_kind::none ? 1 : 0);
  metrics.count_result(m, check, kind);
  const auto& tm = res.timings;
  const nanoseconds phases[] = {tm.resolve, tm.connect, tm.tls, tm.ttfb, tm.transfer, tm.total};
  for (std::size_t i = 0; i < std::size(phases); ++i)
    if (phases[i] > nanoseconds{0} || i + 1 == std::size(phases))
      metrics.observe_phase(m, i, to_seconds(phases[i]));
  if (res.tls.cert_not_after)
    metrics.set_cert_expiry(
        m, std::chrono::duration<double>(res.tls.cert_not_after->time_since_epoch()).count());
}

asio::awaitable<run_verdict> run_single_probe(agent_metrics& metrics, target_runtime& t) {
  // The suites' judge: the same expect: language and failure kinds (status, assertion, transport).
  probes::result res =
      co_await t.client->send(t.config.request);  // not inside the call: GCC 12 and temporaries
  const probes::check_outcome o =
      probes::judge(t.config.name, t.config.expect, std::move(res), {}, *t.config.secrets);
  record_check(metrics, t, 0, o.kind, o.response);
  const bool ok = o.passed();
  co_return run_verdict{ok, o.response.timings.total,
                        ok ? std::string() : std::string(probes::to_string(o.kind))};
}

// A suite run is good only if every check passed; skipped checks (after a failed
// dependency) count as down and are not counted in watchpost_probe_total.
asio::awaitable<run_verdict> run_suite_checks(agent_metrics& metrics, target_runtime& t) {
  const probes::suite_result run =
      co_await probes::run_suite(*t.config.suite, t.config.suite_base_url, t.client->options());
  run_verdict verdict{true, run.duration, {}};
  for (std::size_t i = 0; i < run.checks.size() && i < t.metrics->checks.size(); ++i) {
    const probes::check_outcome& c = run.checks[i];
    if (c.skipped)
      t.metrics->checks[i].success.set(0);
    else
      record_check(metrics, t, i, c.kind, c.response);
    if (c.passed()) continue;
    if (verdict.ok)
      verdict.failure = c.name + ": " + (c.skipped ? "skipped" : std::string(probes::to_string(c.kind)));
    verdict.ok = false;
  }
  co_return verdict;
}

asio::awaitable<void> probe_once(probe_context& ctx, target_runtime& t,
                                 std::shared_ptr<const agent_config> cfg) {
  ctx.metrics.probes_in_flight().Increment();
  run_verdict verdict;  // not a ?: of two co_awaits: GCC 12 frees a temporary twice there
  if (t.config.suite)
    verdict = co_await run_suite_checks(ctx.metrics, t);
  else
    verdict = co_await run_single_probe(ctx.metrics, t);
  ctx.metrics.probes_in_flight().Decrement();
  const bool ok = verdict.ok;
  const bool slow = t.config.slo.latency_quantile && verdict.duration > t.config.slo.latency_bound;
  target_metrics& m = *t.metrics;

  const auto now = wall_clock::now();
  evaluation eval;
  std::vector<outbox_event> raised;
  {
    std::lock_guard lock(t.mutex);
    t.window.record(now, ok, slow);
    if (!t.objectives.empty()) {
      eval = evaluate(t.config, t.window, now);
      t.burn = eval.burn;
      // Still under the lock: the snapshot writer cannot save the breach state evaluate() just
      // set before its events are in the outbox (see event_pipeline.cpp).
      if (!eval.decisions.empty()) raised = ctx.events.raise(*cfg, t, eval, now);
    }
    auto& v = t.view;
    v.probed = true;
    v.up = ok;
    ++v.probes;
    if (!ok) {
      v.last_failure = verdict.failure;
      v.last_failure_ms = unix_millis(now);
    }
    v.recent_seconds[v.recent_count++ % v.recent_seconds.size()] =
        static_cast<float>(to_seconds(verdict.duration));
    for (std::size_t i = 0; i < t.objectives.size(); ++i)
      m.slos[i].breached.set(t.window.slos[i].breached ? 1 : 0);
  }
  for (std::size_t i = 0; i < eval.burn.size(); ++i)
    for (std::size_t j = 0; j < eval.burn[i].size(); ++j)  // two readings per alert, as slos[i].burn
      m.slos[i].burn[j].set(eval.burn[i][j].burn);
  ctx.events.post(std::move(raised));
  t.in_flight = false;
}

void start_probe(probe_context& ctx, target_runtime& t, const asio::any_io_executor& executor,
                 const std::shared_ptr<const agent_config>& cfg) {
  if (t.in_flight) {
    ctx.metrics.count_skipped(*t.metrics);
    std::lock_guard lock(t.mutex);
    ++t.view.skipped;
    return;
  }
  t.in_flight = true;
  asio::co_spawn(executor, probe_once(ctx, t, cfg), [&t](std::exception_ptr e) {
    t.in_flight = false;
    log_exception(e, "probe failed unexpectedly");
  });
}

// Wakes once per batch window and starts every target due by then; a target whose previous
// probe is still running is skipped (and counted) for this round.
asio::awaitable<void> schedule_loop(probe_context& ctx, worker& w, std::shared_ptr<const agent_config> cfg) {
  auto executor = co_await asio::this_coro::executor;
  while (!w.stopping && !w.starts.empty()) {
    const auto fire = align_up(w.starts.top().at, cfg->batch_window);
    w.tick.expires_at(fire);
    co_await w.tick.async_wait(asio::as_tuple(asio::use_awaitable));
    if (w.stopping) break;
    const auto now = steady::now();
    const std::int64_t lag = std::chrono::duration_cast<nanoseconds>(now - fire).count();
    if (lag > w.max_lag_ns.load(std::memory_order_relaxed))
      w.max_lag_ns.store(lag, std::memory_order_relaxed);
    while (!w.starts.empty() && align_up(w.starts.top().at, cfg->batch_window) <= now) {
      const scheduled_start due = w.starts.top();
      w.starts.pop();
      target_runtime& t = *w.targets[due.target];
      start_probe(ctx, t, executor, cfg);
      const nanoseconds jitter = t.config.jitter;
      auto next = due.at + t.config.interval + random_between(-jitter, jitter);
      if (next < now) next = now + t.config.interval;  // fell behind: skip ahead rather than burst
      w.starts.push({next, due.target});
    }
  }
}

}  // namespace

scheduler::scheduler(agent_metrics& metrics, tls_contexts& tls, event_pipeline& events)
    : tls_(tls), context_(std::make_unique<probe_context>(probe_context{metrics, events})) {}

scheduler::~scheduler() = default;

void scheduler::start(const std::shared_ptr<const agent_config>& config, const target_list& targets) {
  const agent_config& cfg = *config;
  const int threads =
      std::max(1, std::min<int>(cfg.threads, static_cast<int>(std::max<std::size_t>(1, targets.size()))));
  probes::resolver_options dns;
  dns.servers = join_servers(cfg.dns.servers);
  dns.cache_ttl = cfg.dns.cache_ttl;
  nanoseconds shortest = nanoseconds::max();
  for (const auto& tc : cfg.targets) shortest = std::min(shortest, tc.timeout);
  dns.try_timeout =
      probes::dns_try_timeout_for(shortest);  // a dropped query is retried within any target's timeout
  for (int i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<worker>());
    workers_.back()->resolver =
        std::make_shared<probes::dns_resolver>(workers_.back()->io.get_executor(), dns);
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    worker& w = *workers_[i % workers_.size()];
    target_runtime& t = *targets[i];
    probes::client_options options;
    options.total_timeout = t.config.timeout;
    options.connect_timeout = std::min(t.config.timeout, options.connect_timeout);
    options.tls_timeout = std::min(t.config.timeout, options.tls_timeout);
    options.keep_alive = t.config.keep_alive;
    options.max_body_bytes = 1024 * 1024;
    // Shared by the https targets (a client left without one loads the system trust store
    // itself: ~1 MB and ms of CPU); plain http targets never need one.
    if (t.config.request.target.tls) options.tls_context = tls_.get(t.config.insecure);
    options.tls.insecure = t.config.insecure;
    options.resolver = w.resolver;
    t.client = std::make_unique<probes::http_client>(w.io.get_executor(), options);
    // A random phase spreads thousands of targets evenly over the interval.
    w.starts.push({steady::now() + random_between(nanoseconds{0}, t.config.interval), w.targets.size()});
    w.targets.push_back(&t);
  }
  // The config's YAML tree and the parse's temporaries were freed in the middle of the heap,
  // under what the targets keep: glibc gives back only its top unless asked (~35 MB at 10,000
  // targets).
  malloc_trim(0);
  for (auto& w : workers_) {
    asio::co_spawn(w->io, schedule_loop(*context_, *w, config),
                   [](std::exception_ptr e) { log_exception(e, "scheduler failed"); });
    w->thread = std::thread([&w = *w] {
      w.io.run();
      w.finished = true;
    });
  }
}

namespace {

void ask_to_stop(worker& w) {
  if (w.stopping.exchange(true)) return;
  asio::post(w.io, [&w] { w.tick.cancel(); });
  w.guard.reset();
}

}  // namespace

asio::awaitable<void> scheduler::wind_down(nanoseconds grace) {
  for (auto& w : workers_) ask_to_stop(*w);
  asio::steady_timer poll(co_await asio::this_coro::executor);
  const auto deadline = steady::now() + grace;
  auto all_finished = [this] {
    return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->finished.load(); });
  };
  while (!all_finished() && steady::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (all_finished()) co_return;
  log_event(log_level::warn, "probes still running after the drain deadline are abandoned");
  for (auto& w : workers_) w->io.stop();
}

void scheduler::stop(const target_list& targets) {
  for (auto& w : workers_) ask_to_stop(*w);
  for (auto& w : workers_) w->thread.join();
  // The clients' sockets belong to the workers' io_contexts: close them while those still exist.
  for (auto& t : targets) t->client.reset();
  workers_.clear();
}

std::int64_t scheduler::take_max_lag_ns() {
  std::int64_t lag = 0;
  for (auto& w : workers_) lag = std::max(lag, w->max_lag_ns.exchange(0));
  return lag;
}

}  // namespace watchpost::agent::detail
