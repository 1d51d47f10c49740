#pragma once
// The JSON report of a load run: everything the summary shows plus the histograms
// (histogram::serialize) and the per-second series, so shard reports merge exactly.
#include <string>
#include <vector>

#include "watchpost/loadgen/result.hpp"

namespace watchpost::exporters {

inline constexpr int load_report_version = 1;

std::string load_report_json(const loadgen::load_result& result,
                             const std::vector<loadgen::threshold_outcome>& outcomes);
// Throws std::runtime_error with a one-line reason for malformed reports.
loadgen::load_result parse_load_report(const std::string& json);
// Throws usage_error (exit 2) for an unreadable or malformed file.
loadgen::load_result read_load_report_file(const std::string& path);
// Throws cannot_run (exit 3): the command could not do its whole job.
void write_text_file(const std::string& path, const std::string& content);

}  // namespace watchpost::exporters
