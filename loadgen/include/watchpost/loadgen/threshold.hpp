#pragma once
// Pass/fail criteria of a load run, parsed from text into plain values (k6 thresholds).
//
// Syntax: METRIC OP VALUE [",window=" DURATION]
//   METRIC  p50, p90, p99, p99.9, ... (any pNN[.N] percentile), min, mean, max  -> latency
//           error_rate -> (errors + dropped) / (requests + dropped);  rps -> requests per second;
//           requests, errors -> counts
//   OP      <  <=  >  >=
//   VALUE   latency: a duration (250ms, 1.5s, 800us); error_rate: "0.1%" or a fraction 0.001;
//           rps, requests, errors: a number
//   window  evaluated over every sliding window of that many whole seconds of the run's
//           per-second series (all must pass); without it, over the whole run.
// In the open model latency thresholds apply to the corrected latency (from the intended send time).
// A gate never passes vacuously: a latency threshold over no responses, and every other one
// but `requests` over no requests (nor dropped sends), fails with "no responses measured" /
// "no requests measured"; so does rps over a run or window of no length.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "watchpost/common/duration.hpp"
#include "watchpost/stats/histogram.hpp"

namespace watchpost::loadgen {

enum class threshold_metric {
  latency_quantile,
  latency_min,
  latency_mean,
  latency_max,
  error_rate,
  rps,
  requests,
  errors
};
enum class comparison { less, less_equal, greater, greater_equal };

struct threshold {
  std::string text;  // as written, for messages and reports
  threshold_metric metric = threshold_metric::latency_quantile;
  double quantile = 0;  // latency_quantile: 0.99 for p99
  comparison op = comparison::less;
  double value = 0;                   // latency: nanoseconds; error_rate: fraction; others: plain number
  std::optional<nanoseconds> window;  // sliding window, whole seconds
};

struct threshold_error {
  std::string message;
};
std::variant<threshold, threshold_error> parse_threshold(std::string_view text);

// The figures a threshold is checked against, over the whole run or one window.
struct window_stats {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  double seconds = 0;
  const stats::histogram* latency = nullptr;  // may be null when there are no samples
  std::uint64_t dropped = 0;                  // open model: sends that never went out
};

// The observed value in the threshold's unit (nanoseconds for latency); nullopt when there is
// nothing to observe (no responses for latency, no requests for the rest), which never holds.
using observation = std::optional<double>;
observation observe(const threshold& t, const window_stats& w);
bool holds(const threshold& t, observation observed);
// "p99=312ms", "error_rate=0.52%", "rps=8812.4", or "no responses measured".
std::string describe_observed(const threshold& t, observation observed);

}  // namespace watchpost::loadgen
