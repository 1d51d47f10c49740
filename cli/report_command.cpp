// watchpost report merge A.json B.json ...: shard reports merged exactly into one verdict.
#include <algorithm>
#include <cstdio>

#include "cli_support.hpp"
#include "load_outputs.hpp"
#include "watchpost/exporters/load_console.hpp"
#include "watchpost/exporters/load_report.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

int run_report_command(const args& argv) {
  po::options_description options("watchpost report merge A.json B.json ... [options]");
  options.add_options()("help,h", "show this help")("action", po::value<std::string>(), "merge")(
      "reports", po::value<std::vector<std::string>>()->composing(),
      "JSON reports written by `watchpost load --json`")("json", po::value<std::string>(),
                                                         "write the merged JSON report to FILE")(
      "html", po::value<std::string>(), "write the merged HTML report to FILE")(
      "threshold", po::value<std::vector<std::string>>()->composing(),
      "judge these instead of the reports' own thresholds")("quiet,q", "no summary");
  po::positional_options_description positional;
  positional.add("action", 1).add("reports", -1);
  po::variables_map vm;
  if (!parse_options(argv, options, positional, vm)) return exit_pass;  // --help was printed
  if (!vm.count("action") || vm["action"].as<std::string>() != "merge")
    throw usage_error("usage: watchpost report merge A.json B.json ... [--json F] [--html F]");
  if (!vm.count("reports")) throw usage_error("report merge needs at least one JSON report");

  loadgen::load_result merged;
  bool first = true;
  for (const auto& path : vm["reports"].as<std::vector<std::string>>()) {
    loadgen::load_result r = exporters::read_load_report_file(path);
    if (first) {
      merged = std::move(r);
      first = false;
      continue;
    }
    if (r.parameters.model != merged.parameters.model || r.parameters.target != merged.parameters.target)
      throw usage_error(path + ": a different run (target or model differs) cannot be merged");
    std::vector<std::string> thresholds = merged.parameters.thresholds;
    for (const auto& t : r.parameters.thresholds)
      if (std::find(thresholds.begin(), thresholds.end(), t) == thresholds.end()) thresholds.push_back(t);
    merged.merge(r);
    merged.parameters.thresholds = thresholds;
  }
  if (vm.count("threshold")) merged.parameters.thresholds = vm["threshold"].as<std::vector<std::string>>();

  const auto thresholds = threshold_options(merged.parameters.thresholds);
  const auto outcomes = loadgen::evaluate_thresholds(thresholds, merged);
  if (!vm.count("quiet")) {
    const std::string summary = exporters::load_summary(merged, outcomes);
    std::fwrite(summary.data(), 1, summary.size(), stdout);
  }
  write_load_reports(vm, merged, outcomes);
  return thresholds_passed("report", outcomes) ? exit_pass : exit_failed;
}

const bool registered =
    register_command({"report", run_report_command,
                      "report merge A.json B.json ...: merge load shard reports into one verdict", 50});

}  // namespace

}  // namespace watchpost::cli
