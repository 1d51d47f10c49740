#pragma once
// One self-contained HTML file (no scripts, no network): summary table, requests per second
// and latency percentiles over time, and the latency distribution, drawn as inline SVG.
#include <string>
#include <vector>

#include "watchpost/loadgen/result.hpp"

namespace watchpost::exporters {

std::string load_report_html(const loadgen::load_result& result,
                             const std::vector<loadgen::threshold_outcome>& outcomes);

}  // namespace watchpost::exporters
