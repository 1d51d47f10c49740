#pragma once
// Outputs of `watchpost smoke`: console lines, a JSON report and the failure summary a
// webhook receives. Every string from a result passes through the run's redactor first.
#include <optional>
#include <string>
#include <vector>

#include "watchpost/probes/redact.hpp"
#include "watchpost/probes/suite.hpp"

namespace watchpost::exporters {

// One deployment target of a run; no result when it never became ready.
struct target_run {
  std::string target;
  std::optional<probes::suite_result> result;
};

struct suite_run {
  std::string suite_name;
  std::string run_id;
  std::vector<target_run> targets;

  bool passed() const;
  bool any_not_ready() const;
};

// One line per check (✓ / ✗ / -), failures indented beneath with expected vs actual.
std::string suite_console(const suite_run& run, const probes::redactor& redact);
// The whole run as one JSON document (schema "watchpost.smoke/v1"), newline-terminated.
std::string suite_json(const suite_run& run, const probes::redactor& redact);
// Reads a suite_json() document back. Only what the report holds comes back (outputs are
// already redacted; response headers and bodies are not kept), so suite_json() of the result
// with an empty redactor gives the same bytes. Throws std::runtime_error with a one-line
// reason ("smoke report: targets[0].checks[2]: missing field 'status'") for malformed input.
suite_run parse_suite_report(std::string_view json);
// The same for a file; the message starts with the path.
suite_run read_suite_report_file(const std::string& path);
// What --on-fail-webhook posts: suite, run id, and per failing target its failed checks.
std::string suite_failure_summary_json(const suite_run& run, const probes::redactor& redact);

// Replaces bytes that are not valid UTF-8 with '?', so strict JSON and XML parsers accept
// response excerpts.
std::string valid_utf8(std::string_view text);

}  // namespace watchpost::exporters
