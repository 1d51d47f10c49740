#include "watchpost/exporters/load_console.hpp"

#include <cstdio>

#include "watchpost/common/duration.hpp"

namespace watchpost::exporters {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string latency(std::int64_t ns) { return format_duration(nanoseconds(ns)); }

std::string bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fixed(b, u == 0 ? 0 : 2) + " " + units[u];
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

void latency_table(std::string& out, const char* title, const stats::histogram& h) {
  out += title;
  out += "\n";
  if (h.count() == 0) {
    out += "    no responses measured\n";  // zeros here would read as a fast server
    return;
  }
  const std::pair<const char*, double> rows[] = {{"p50", 0.5},  {"p75", 0.75},    {"p90", 0.9},
                                                 {"p99", 0.99}, {"p99.9", 0.999}, {"p99.99", 0.9999}};
  for (auto [name, q] : rows)
    out += "    " + pad(name, 7) + "  " + pad(latency(h.value_at_quantile(q)), 9) + "\n";
  out += "    " + pad("max", 7) + "  " + pad(latency(h.max()), 9) + "\n";
  out += "    " + pad("mean", 7) + "  " + pad(latency(static_cast<std::int64_t>(h.mean())), 9) +
         "   stddev " + latency(static_cast<std::int64_t>(h.stddev())) + "\n";
}

}  // namespace

std::string load_progress_line(const loadgen::load_result& so_far, const loadgen::series_point& latest,
                               double planned_seconds) {
  std::string line = "[" + fixed(static_cast<double>(latest.second + 1), 0) + "s";
  if (planned_seconds > 0) line += "/" + fixed(planned_seconds, 0) + "s";
  line += "] rps=" + fixed(static_cast<double>(latest.totals.requests), 0);
  line += " p50=" + latency(latest.p50) + " p99=" + latency(latest.p99) + " max=" + latency(latest.max);
  line += " errors=" + std::to_string(latest.totals.errors);
  if (so_far.totals.dropped != 0) line += " dropped=" + std::to_string(so_far.totals.dropped);
  line += " total=" + std::to_string(so_far.totals.requests);
  return line;
}

std::string load_summary(const loadgen::load_result& r,
                         const std::vector<loadgen::threshold_outcome>& outcomes) {
  const auto& p = r.parameters;
  std::string out;
  out += "Load " + p.target + "  (" + p.model + " model";
  if (r.open_model()) out += ", rate " + fixed(p.rate, 0) + "/s";
  out += ", " + std::to_string(p.connections) + " connections, " + std::to_string(p.threads) + " threads";
  if (p.shard_count > 1)
    out += ", shard " + std::to_string(p.shard_index + 1) + "/" + std::to_string(p.shard_count);
  out += ")\n";
  if (r.interrupted) out += "  (ended early: interrupted)\n";
  out += "  requests   " + std::to_string(r.totals.requests) + " in " + fixed(r.elapsed_seconds, 2) + "s, " +
         fixed(r.rps(), 1) + " req/s\n";
  out += "  read       " + bytes(static_cast<double>(r.totals.bytes_read)) + ", " +
         bytes(r.elapsed_seconds > 0 ? static_cast<double>(r.totals.bytes_read) / r.elapsed_seconds : 0) +
         "/s\n";
  if (!r.io_backend.empty())
    out += "  io         " + r.io_backend +
           (r.io_backend_reason.empty() ? "" : " (" + r.io_backend_reason + ")") + "\n";
  out += "  errors     " + std::to_string(r.totals.errors);
  if (r.totals.requests != 0)
    out += " (" +
           fixed(100.0 * static_cast<double>(r.totals.errors) / static_cast<double>(r.totals.requests), 3) +
           "%)";
  for (auto kind : probes::all_failure_kinds) {
    const auto n = r.totals.errors_by_kind[static_cast<std::size_t>(kind)];
    if (n != 0) out += "  " + std::string(probes::to_string(kind)) + "=" + std::to_string(n);
  }
  for (const auto& [message, n] : r.assertion_failures) out += "\n    " + std::to_string(n) + " x " + message;
  if (r.totals.reconnects != 0)
    out += "\n  reconnects " + std::to_string(r.totals.reconnects) +
           " (idle keep-alive closes; requests resent)";
  if (r.totals.in_flight_at_end != 0)
    out += "\n  in flight  " + std::to_string(r.totals.in_flight_at_end) + " unanswered when the run ended";
  if (r.totals.dropped != 0)
    out += "\n  WARNING: " + std::to_string(r.totals.dropped) +
           " requests dropped: the rate needed a free connection and none was (raise -c)";
  out += "\n  status    ";
  if (r.totals.status_counts.empty()) out += " none";
  for (const auto& [code, n] : r.totals.status_counts)
    out += " " + std::to_string(code) + "=" + std::to_string(n);
  out += "\n";
  if (r.open_model()) {
    latency_table(out, "  latency (corrected: from the intended send time)", r.latency);
    latency_table(out, "  latency (uncorrected: from the actual send time)", r.uncorrected_latency);
  } else {
    latency_table(out, "  latency", r.latency);
  }
  if (r.latency.overflow_count() != 0)
    out += "  (" + std::to_string(r.latency.overflow_count()) + " latencies above 1h counted as overflow)\n";
  if (!outcomes.empty()) {
    out += "  thresholds\n";
    for (const auto& o : outcomes)
      out += std::string("    ") + (o.passed ? "PASS  " : "FAIL  ") + o.text + "   (" + o.observed + ", " +
             o.where + ")\n";
  }
  return out;
}

}  // namespace watchpost::exporters
