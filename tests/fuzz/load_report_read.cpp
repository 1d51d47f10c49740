// The load report reader (exporters::parse_load_report) on arbitrary text. Malformed reports
// are std::runtime_error; an accepted report has a valid shard (1 <= i <= N) and a series
// ordered by second (report merge relies on both), writes back to JSON that reads back to the
// same report, and merges with itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "watchpost/exporters/load_report.hpp"

namespace {

using watchpost::loadgen::load_result;

void check_invariants(const load_result& r) {
  if (r.parameters.shard_count == 0 || r.parameters.shard_index >= r.parameters.shard_count) std::abort();
  for (std::size_t i = 1; i < r.series.size(); ++i)
    if (r.series[i - 1].second >= r.series[i].second) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  load_result report;
  try {
    report = watchpost::exporters::parse_load_report(text);
  } catch (const std::runtime_error&) {
    return 0;
  }
  check_invariants(report);
  const std::string written = watchpost::exporters::load_report_json(report, {});
  const load_result back = watchpost::exporters::parse_load_report(written);  // must not throw
  if (watchpost::exporters::load_report_json(back, {}) != written) std::abort();
  load_result merged = report;
  merged.merge(back);
  if (merged.totals.requests != report.totals.requests * 2 && report.totals.requests < UINT64_MAX / 2)
    std::abort();
  return 0;
}
