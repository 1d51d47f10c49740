#pragma once
// Text for people: the live progress line and the end summary (wrk / k6 style).
#include <string>
#include <vector>

#include "watchpost/loadgen/result.hpp"

namespace watchpost::exporters {

// One line for the latest second: elapsed/total, rps, p99, errors.
std::string load_progress_line(const loadgen::load_result& so_far, const loadgen::series_point& latest,
                               double planned_seconds);
std::string load_summary(const loadgen::load_result& result,
                         const std::vector<loadgen::threshold_outcome>& outcomes);

}  // namespace watchpost::exporters
