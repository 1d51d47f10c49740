#pragma once
// What a load run measured, as one plain value: totals, histograms and the per-second series.
// Built by the engine from per-thread intervals, written to and read from JSON reports, and
// merged across shards exactly (vegeta's Metrics.Add/Close).
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/loadgen/threshold.hpp"
#include "watchpost/probes/failure.hpp"
#include "watchpost/stats/histogram.hpp"

namespace watchpost::loadgen {

inline constexpr std::size_t failure_kind_count = std::size(probes::all_failure_kinds) + 1;  // + none
using error_counts = std::array<std::uint64_t, failure_kind_count>;  // indexed by failure_kind

// Counters shared by one interval and the whole run.
struct counters {
  std::uint64_t requests = 0;  // completed attempts: responses + errors
  std::uint64_t errors = 0;
  std::uint64_t bytes_read = 0;
  // Open model: intended sends that never went out because no connection was free (k6's
  // dropped_iterations; the rule is in engine.hpp). Not in `requests`; error_rate counts them.
  std::uint64_t dropped = 0;
  // Sent but unanswered, still within their deadline, when the run ended. Neither requests nor
  // errors: reported so that a run whose server stopped answering cannot look clean.
  std::uint64_t in_flight_at_end = 0;
  // Idle keep-alive connections the server had closed, reconnected and the request resent.
  std::uint64_t reconnects = 0;
  error_counts errors_by_kind{};
  std::map<int, std::uint64_t> status_counts;

  void add_error(probes::failure_kind kind) {
    ++requests;
    ++errors;
    ++errors_by_kind[static_cast<std::size_t>(kind)];
  }
  void merge(const counters& other);
  friend bool operator==(const counters&, const counters&) = default;
};

// One second of the run. The histogram is kept serialised (a few hundred bytes) so a long
// run's memory grows only by this series; the percentiles are derived from it.
struct series_point {
  std::int64_t second = 0;  // 0-based offset from the start of the run
  counters totals;
  std::string latency;  // histogram::serialize() of the (corrected) latency
  std::int64_t p50 = 0, p90 = 0, p99 = 0, max = 0;

  void set_latency(const stats::histogram& h);
  friend bool operator==(const series_point&, const series_point&) = default;
};

// Why sampled responses failed their expect: rules: "name: json $.a: expected 1, got 2" and how
// often. Only the first distinct messages are kept (the rest add to one "other" entry), so a
// run's memory stays bounded however varied the failures.
using failure_messages = std::map<std::string, std::uint64_t>;
inline constexpr std::size_t max_failure_messages = 10;
inline constexpr std::string_view other_failure_messages = "(other messages)";
void add_failure_message(failure_messages& into, const std::string& message, std::uint64_t count = 1);
void merge_failure_messages(failure_messages& into, const failure_messages& from);

struct run_parameters {
  std::string target;  // URL (or plan name)
  std::string model;   // "closed" or "open"
  std::uint64_t connections = 0;
  unsigned threads = 0;
  double rate = 0;  // open model, requests/s (peak stage target when staged)
  double duration_seconds = 0;
  std::uint64_t max_requests = 0;  // -n, 0 = none
  unsigned shard_index = 0, shard_count = 1;
  std::vector<std::string> thresholds;  // as written
  friend bool operator==(const run_parameters&, const run_parameters&) = default;
};

struct load_result {
  run_parameters parameters;
  double elapsed_seconds = 0;
  bool interrupted = false;  // SIGINT or --abort-on-fail ended it early
  counters totals;
  stats::histogram latency;              // corrected in the open model
  stats::histogram uncorrected_latency;  // open model only: from the actual send time
  std::vector<series_point> series;      // ordered by second
  failure_messages assertion_failures;   // sampled expect: failures, by first message
  std::string io_backend;                // "uring" or "epoll": the I/O back end that ran
  std::string io_backend_reason;         // why epoll ran where io_uring was not ruled out by --io

  bool open_model() const { return parameters.model == "open"; }
  double rps() const {
    return elapsed_seconds > 0 ? static_cast<double>(totals.requests) / elapsed_seconds : 0;
  }

  // Adds one second of one worker (or one shard's second) into the series and the totals.
  void add_interval(std::int64_t second, const counters& c, const stats::histogram& corrected,
                    const stats::histogram& uncorrected);
  // Shard merge: counts and histograms add; series add second by second; elapsed is the max.
  void merge(const load_result& other);
};

struct threshold_outcome {
  std::string text;
  bool passed = true;
  std::string observed;  // worst observed value, e.g. "p99=312ms"
  std::string where;     // "whole run" or "window 12s-22s"
  bool measured = true;  // false: nothing to observe yet ("no responses measured"), so failed
};

// Every threshold over the whole run or each sliding window of its series.
std::vector<threshold_outcome> evaluate_thresholds(const std::vector<threshold>& thresholds,
                                                   const load_result& result);
// Windowed thresholds only, over the last complete window: for --abort-on-fail while running.
std::vector<threshold_outcome> evaluate_latest_windows(const std::vector<threshold>& thresholds,
                                                       const load_result& result);

}  // namespace watchpost::loadgen
