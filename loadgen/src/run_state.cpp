#include "run_state.hpp"

#include <algorithm>
#include <csignal>
#include <exception>
#include <functional>
#include <thread>

#include "watchpost/common/exit_error.hpp"

namespace watchpost::loadgen {

void run_state::on_interval(std::int64_t second, interval_data data, bool final, time_point stopped_at) {
  const bool has_data = data.totals != counters{};
  if (!final || has_data) result_.add_interval(second, data.totals, data.corrected, data.uncorrected);
  merge_failure_messages(result_.assertion_failures, data.assertion_failures);
  if (final) {
    last_stop_ = std::max(last_stop_, stopped_at);
    worker_finished();
    return;
  }
  if (++arrivals_[second] == workers_.size()) {
    arrivals_.erase(second);
    if (observer_ && !stop_requested_) {
      auto it = std::find_if(result_.series.begin(), result_.series.end(),
                             [&](const series_point& p) { return p.second == second; });
      result_.elapsed_seconds = to_seconds(clock_type::now() - start_);
      if (it != result_.series.end() && !observer_(result_, *it)) {
        result_.interrupted = true;
        stop_all();
      }
    }
  }
}

void run_state::worker_finished() {
  if (++finished_ == workers_.size()) signals_->cancel();
}

void run_state::on_worker_failed(std::string message) {
  if (failure_.empty()) failure_ = std::move(message);
  worker_finished();
  if (!stop_requested_) stop_all();
}

void run_state::stop_all() {
  stop_requested_ = true;
  for (auto& w : workers_) w->request_stop();
}

void run_state::prepare(const compiled_plan& plan, const network_target& target, bool on_ring) {
  workers_.clear();
  for (unsigned i = 0; i < options_.threads; ++i)
    workers_.push_back(std::make_unique<worker>(*this, options_, plan, target, i, on_ring));
}

load_result run_state::run() {
  result_.parameters = options_.parameters;

  signals_.emplace(main_, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [this, &on_signal](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (!stop_requested_) {
          // First signal: stop gracefully and report what ran.
          result_.interrupted = true;
          stop_all();
          signals_->async_wait(on_signal);
        } else {
          // Second signal: stop now, without waiting for workers to drain.
          for (auto& w : workers_) w->abort();
          main_.stop();
        }
      };
  signals_->async_wait(on_signal);

  start_ = clock_type::now();
  last_stop_ = start_;
  std::vector<std::thread> threads;
  threads.reserve(workers_.size());
  for (auto& w : workers_)
    threads.emplace_back([this, wp = w.get()] {
      try {
        wp->run();
      } catch (const std::exception& e) {
        worker_failed(e.what());
      }
    });
  main_.run();
  for (auto& t : threads) t.join();
  if (!failure_.empty()) throw cannot_run(failure_);
  if (last_stop_ == start_) last_stop_ = clock_type::now();
  result_.elapsed_seconds = to_seconds(last_stop_ - start_);
  return std::move(result_);
}

}  // namespace watchpost::loadgen
