#pragma once
// Helpers of the fault matrix: run one mode of the real watchpost binary and read back what it
// reported (its JSON output), and a running agent scraped over a plain loopback socket. Process
// tests link no watchpost library: what they see is what a user sees.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "process.hpp"

namespace watchpost::e2e {

// What one mode said about one row.
struct observation {
  int exit_code = -1;  // 128+signal when a signal ended it, -1 when the harness had to kill it
  std::chrono::milliseconds wall{0};
  std::string reported;  // "ok", "protocol", ...; mixed outcomes read "ok=3,reset=2"
  std::string detail;    // the process's output, shown when the cell is wrong
};

// Outcome counts as one word: the kind alone when only one occurred, else "kind=n,..." (sorted);
// "nothing" when nothing was counted.
std::string outcome_set(const std::map<std::string, double>& counts);

// Runs `watchpost args...` to completion (killed after a minute), timing it; `reported` reads
// what it reported from its stdout (or from the report file it wrote).
observation run_mode(const std::vector<std::string>& args,
                     const std::function<std::string(const std::string& stdout_text)>& reported);

// The readers below fill observation::reported from a mode's JSON; unreadable output reads
// "unreadable: <why>".
// `watchpost probe --json` on stdout: its "result".
std::string probe_reported(const std::string& json_text);
// `watchpost smoke --json F`: the results of the first target's checks.
std::string smoke_reported(const std::string& json_text);
// `watchpost load --json F`: the requests without error as "ok", and totals.errors_by_kind.
std::string load_reported(const std::string& json_text);
// A counter of the load report's totals ("reconnects", ...); 0 when the report lacks it.
std::uint64_t load_total(const std::string& json_text, std::string_view name);

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class scratch_dir {
 public:
  explicit scratch_dir(const std::string& name);
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  // Writes `text` to a file of that name in the directory and returns its path.
  std::string write(const std::string& name, const std::string& text) const;
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

std::string read_file(const std::string& path);  // "" when missing

// `watchpost agent CONFIG` with its READY line parsed.
class agent_process {
 public:
  explicit agent_process(const std::string& config_path);
  testing::child_process& process() { return process_; }
  std::string metrics() const;  // the body of GET /metrics ("" on failure)

 private:
  testing::child_process process_;
  std::uint16_t port_ = 0;
};

// Sum of the samples of `metric` (exact name) whose labels include every `name="value"` of
// `labels`.
double sample_sum(const std::string& exposition, std::string_view metric,
                  const std::vector<std::string>& labels);
// The samples of `metric` whose labels include `labels`, summed per value of label `by`.
std::map<std::string, double> samples_by(const std::string& exposition, std::string_view metric,
                                         const std::vector<std::string>& labels, std::string_view by);
// `name="value"` for the label arguments above.
std::string label(std::string_view name, std::string_view value);

}  // namespace watchpost::e2e
