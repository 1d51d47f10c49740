#pragma once
// What the `watchpost load` process tests share: the test target, temporary files, running a
// plan file and reading the counts of a report.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "process.hpp"
#include "watchpost/exporters/load_report.hpp"

namespace watchpost::testing {

inline test_target& load_target() {
  static test_target t({"--threads", "2"});
  return t;
}

inline std::string load_temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("watchpost-load-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

inline std::uint64_t errors_of(const loadgen::load_result& r, probes::failure_kind kind) {
  return r.totals.errors_by_kind[static_cast<std::size_t>(kind)];
}

// Runs `watchpost load --plan` on a plan made of `body` (after a url: line) and returns its report.
struct plan_run {
  command_result command;
  loadgen::load_result report;
};
inline plan_run run_plan(const std::string& name, const std::string& body,
                         const std::vector<std::string>& extra = {},
                         const std::string& url = load_target().http_url("/"),
                         const std::map<std::string, std::string>& env = {}) {
  const auto plan = load_temp_path(name + ".yaml"), json = load_temp_path(name + ".json");
  std::ofstream(plan) << "url: " << url << "\n" << body;
  std::vector<std::string> argv{"load", "--plan", plan, "--json", json};
  argv.insert(argv.end(), extra.begin(), extra.end());
  plan_run r{run_watchpost(argv, env), {}};
  std::filesystem::remove(plan);
  if (std::filesystem::exists(json)) r.report = exporters::read_load_report_file(json);
  std::filesystem::remove(json);
  return r;
}

}  // namespace watchpost::testing
