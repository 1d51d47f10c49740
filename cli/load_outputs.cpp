#include "load_outputs.hpp"

#include <cstdio>
#include <variant>

#include "watchpost/exporters/load_html.hpp"
#include "watchpost/exporters/load_report.hpp"

namespace watchpost::cli {

std::vector<loadgen::threshold> threshold_options(const std::vector<std::string>& texts) {
  std::vector<loadgen::threshold> out;
  for (const auto& text : texts) {
    auto parsed = loadgen::parse_threshold(text);
    if (auto* err = std::get_if<loadgen::threshold_error>(&parsed)) throw usage_error(err->message);
    out.push_back(std::get<loadgen::threshold>(std::move(parsed)));
  }
  return out;
}

void write_load_reports(const boost::program_options::variables_map& vm, const loadgen::load_result& result,
                        const std::vector<loadgen::threshold_outcome>& outcomes) {
  if (vm.count("json"))
    exporters::write_text_file(vm["json"].as<std::string>(), exporters::load_report_json(result, outcomes));
  if (vm.count("html"))
    exporters::write_text_file(vm["html"].as<std::string>(), exporters::load_report_html(result, outcomes));
}

bool thresholds_passed(const char* command, const std::vector<loadgen::threshold_outcome>& outcomes) {
  bool passed = true;
  for (const auto& o : outcomes) {
    if (o.passed) continue;
    std::fprintf(stderr, "watchpost %s: threshold failed: %s (%s, %s)\n", command, o.text.c_str(),
                 o.observed.c_str(), o.where.c_str());
    passed = false;
  }
  return passed;
}

}  // namespace watchpost::cli
