#pragma once
// One worker: one OS thread running its io_uring loop (plain http) or its io_context (epoll),
// owning its connections, interval histograms and counters (wrk2). Connections call the inline hot-path
// services below; nothing is shared with other workers but the read-only plan and target.
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "connection.hpp"
#include "transport.hpp"
#include "uring.hpp"
#include "watchpost/loadgen/compiled_plan.hpp"
#include "watchpost/loadgen/engine.hpp"

namespace watchpost::loadgen {

class run_state;

// What one worker measured during the current second.
struct interval_data {
  counters totals;
  std::array<std::uint64_t, 600> status{};  // flat per-code counters: no map on the hot path
  stats::histogram corrected;
  stats::histogram uncorrected;
  failure_messages assertion_failures;
};

class worker {
 public:
  using clock_type = connection::clock_type;
  using time_point = connection::time_point;

  // `on_ring`: the connections (plain http) use an io_uring of this worker's (uring.hpp) and
  // its loop instead of the io_context.
  worker(run_state& run, const load_options& options, const compiled_plan& plan, const network_target& target,
         unsigned index, bool on_ring);
  void run();
  void stop();  // graceful, on this worker's thread
  // From the main thread: a graceful stop, or (a second SIGINT) leaving at once. On the io_uring
  // back end the loop looks at these each turn, and a turn ends by the next tick (100 ms).
  void request_stop();
  void abort();
  boost::asio::io_context& context() { return ctx_; }
  uring* ring() { return ring_.get(); }

  // Hot-path services for connections.
  bool stopping() const { return stopping_; }
  bool open_model() const { return rate_.has_value(); }
  bool may_work(std::size_t index) const { return index < active_; }
  // Claims the next request slot at `now`: its intended send time (open model), or false when
  // the worker's share of -n or of the schedule is used up. Open model: a slot already more
  // than the timeout past its intended time is dropped, not sent (engine.hpp has the rule).
  bool claim(time_point& intended, time_point now) {
    for (;;) {
      if (quota_ != 0 && claimed_ >= quota_) return false;
      ++claimed_;
      if (!rate_) return true;
      auto t = intended_time(*rate_, claimed_ - 1);
      if (!t) {
        --claimed_;
        return false;
      }
      intended = start_ + *t;
      if (now - intended <= options_.timeout) return true;
      ++interval_.totals.dropped;
      finished_one();
    }
  }
  std::size_t pick_request() { return picker_.next(plan_); }
  // A capture when this exchange of `request` is sampled for its expect: rules, else null.
  std::unique_ptr<response_capture> sample(std::size_t request);
  void give_back(std::unique_ptr<response_capture> c) {
    // Keep spare buffers small: one huge sampled body must not stay resident.
    if (c->response.body.capacity() > 1024 * 1024) c->response.body = std::string();
    spare_captures_.push_back(std::move(c));
  }
  void record_response(int status, std::size_t request, time_point intended, time_point sent, time_point done,
                       response_capture* sampled);
  void record_error(probes::failure_kind kind) {
    interval_.totals.add_error(kind);
    finished_one();
  }
  // A non-idempotent request whose reused connection the server closed while idle: a reset,
  // with the reason among the failure messages.
  void record_idle_close(std::size_t request) {
    add_failure_message(interval_.assertion_failures, plan_.requests[request].idle_close_message);
    record_error(probes::failure_kind::reset);
  }
  void record_reconnect() { ++interval_.totals.reconnects; }
  // At the end of the run (the run's counters are final, so no quota bookkeeping).
  void record_unanswered(bool past_deadline) {
    if (past_deadline)
      interval_.totals.add_error(probes::failure_kind::timeout);
    else
      ++interval_.totals.in_flight_at_end;
  }
  void add_bytes(std::size_t n) { interval_.totals.bytes_read += n; }
  char* read_buffer() { return read_buffer_.data(); }
  std::size_t read_buffer_size() const { return read_buffer_.size(); }
  const compiled_plan& plan() const { return plan_; }
  const network_target& target() const { return target_; }
  const load_options& options() const { return options_; }

 private:
  void finished_one() {
    ++completed_;
    if (quota_ != 0 && completed_ >= quota_) stop();
  }
  probes::failure_kind judge_sample(std::size_t request, response_capture& sampled, nanoseconds took);
  void on_tick();
  void run_ring();
  void flush_interval(bool final);
  void update_active(time_point now);
  void drop_unclaimed(time_point now);

  run_state& run_;
  const load_options& options_;
  const compiled_plan& plan_;
  const network_target& target_;
  // Only this worker's thread touches its sockets and timers, so the reactor's per-descriptor
  // locks are dropped; the scheduler keeps its lock because the main thread posts stop().
  boost::asio::io_context ctx_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  boost::asio::steady_timer tick_{ctx_};
  boost::asio::steady_timer deadline_{ctx_};
  std::unique_ptr<uring> ring_;  // before the connections, which hold it
  std::vector<std::unique_ptr<connection>> connections_;
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
  request_picker picker_;
  response_sampler sampler_;
  std::vector<std::unique_ptr<response_capture>> spare_captures_;
  interval_data interval_;
  std::optional<schedule> rate_;  // this worker's share of the rate
  std::optional<schedule> ramp_;  // this worker's share of the connections
  time_point start_{};
  time_point end_ = time_point::max();  // start + duration
  time_point next_tick_{};
  std::int64_t second_ = 0;
  std::uint64_t tick_count_ = 0;
  std::uint64_t quota_ = 0;
  std::uint64_t claimed_ = 0, completed_ = 0;
  std::size_t active_ = 0;
  bool stopping_ = false;
  std::atomic<bool> stop_requested_{false}, abort_requested_{false};  // io_uring back end
};

}  // namespace watchpost::loadgen
