#pragma once
// What `load` and `report merge` share: threshold flags, the --json/--html reports and the verdict.
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "watchpost/loadgen/result.hpp"
#include "watchpost/loadgen/threshold.hpp"

namespace watchpost::cli {

// --threshold texts (or a plan's/report's); throws usage_error on the first malformed one.
std::vector<loadgen::threshold> threshold_options(const std::vector<std::string>& texts);

// Writes the JSON and HTML reports asked for with --json FILE / --html FILE.
void write_load_reports(const boost::program_options::variables_map& vm, const loadgen::load_result& result,
                        const std::vector<loadgen::threshold_outcome>& outcomes);

// Prints "watchpost <command>: threshold failed: ..." for each failed outcome; true when none failed.
bool thresholds_passed(const char* command, const std::vector<loadgen::threshold_outcome>& outcomes);

}  // namespace watchpost::cli
