#pragma once
// The main thread's side of a run: starts the workers, merges their seconds into the result,
// calls the observer and watches SIGINT/SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "worker.hpp"

namespace watchpost::loadgen {

class run_state {
 public:
  using clock_type = worker::clock_type;
  using time_point = worker::time_point;

  run_state(const load_options& options, const interval_observer& observer)
      : options_(options), observer_(observer) {}

  // Builds the workers: `on_ring`, the io_uring back end for plain http (else Asio's epoll
  // reactor). Throws uring::setup_error when a worker's ring cannot be set up (then again
  // without the ring falls back); run() then runs them.
  void prepare(const compiled_plan& plan, const network_target& target, bool on_ring);
  load_result run();

  time_point start() const { return start_; }
  // From a worker thread whose run ended in an exception: the run stops, and then fails with
  // this message (a thread must not end in std::terminate).
  void worker_failed(std::string message) {
    boost::asio::post(main_, [this, m = std::move(message)]() mutable { on_worker_failed(std::move(m)); });
  }
  // From a worker thread: hands over one second (or the last partial one).
  void deliver(std::int64_t second, interval_data data, bool final, time_point stopped_at) {
    boost::asio::post(main_, [this, second, d = std::move(data), final, stopped_at]() mutable {
      on_interval(second, std::move(d), final, stopped_at);
    });
  }

 private:
  void on_interval(std::int64_t second, interval_data data, bool final, time_point stopped_at);
  void on_worker_failed(std::string message);
  void worker_finished();
  void stop_all();

  const load_options& options_;
  const interval_observer& observer_;
  boost::asio::io_context main_{1};
  std::vector<std::unique_ptr<worker>> workers_;
  load_result result_;
  std::map<std::int64_t, unsigned> arrivals_;  // workers that delivered each second
  unsigned finished_ = 0;
  time_point start_{};
  time_point last_stop_{};
  bool stop_requested_ = false;
  std::string failure_;  // the first worker_failed() message
  std::optional<boost::asio::signal_set> signals_;
};

}  // namespace watchpost::loadgen
