#include "watchpost/exporters/suite_report.hpp"

#include <boost/json.hpp>

#include "watchpost/exporters/probe_report.hpp"

namespace watchpost::exporters {

namespace json = boost::json;

bool suite_run::passed() const {
  for (const auto& t : targets)
    if (!t.result || !t.result->passed()) return false;
  return !targets.empty();
}

bool suite_run::any_not_ready() const {
  for (const auto& t : targets)
    if (!t.result) return true;
  return false;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (ok && len == 2) ok = c >= 0xC2;  // overlong
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

namespace {

std::string clean(const probes::redactor& redact, std::string_view text) { return valid_utf8(redact(text)); }

std::string result_name(const probes::check_outcome& c) {
  if (c.skipped) return "skipped";
  return std::string(probes::to_string(c.kind));
}

json::object check_json(const probes::check_outcome& c, const probes::redactor& redact) {
  json::array failures;
  for (const auto& f : c.failures) failures.emplace_back(clean(redact, f));
  json::object o{{"name", clean(redact, c.name)},
                 {"request", clean(redact, c.request_line)},
                 {"result", result_name(c)},
                 {"passed", c.passed()},
                 {"skipped", c.skipped},
                 {"failures", std::move(failures)},
                 {"attempts", c.attempts},
                 {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(c.duration).count()}};
  if (c.skipped) o["skip_reason"] = clean(redact, c.skip_reason);
  if (!c.skipped) {
    o["status"] = c.response.status;
    o["timings_us"] = timings_json(c.response.timings);
    if (c.response.tls.present) o["tls"] = tls_json(c.response.tls);
  }
  return o;
}

}  // namespace

std::string suite_json(const suite_run& run, const probes::redactor& redact) {
  json::array targets;
  std::size_t total = 0, failed = 0, skipped = 0;
  for (const auto& t : run.targets) {
    json::object o{{"target", clean(redact, t.target)}, {"ready", t.result.has_value()}};
    if (t.result) {
      const auto& r = *t.result;
      json::array checks;
      for (const auto& c : r.checks) checks.push_back(check_json(c, redact));
      o["passed"] = r.passed();
      o["started"] = iso8601(r.started);
      o["duration_us"] = std::chrono::duration_cast<std::chrono::microseconds>(r.duration).count();
      o["tests"] = r.checks.size();
      o["failures"] = r.failed_count();
      o["skipped"] = r.skipped_count();
      o["checks"] = std::move(checks);
      total += r.checks.size();
      failed += r.failed_count();
      skipped += r.skipped_count();
    } else {
      o["passed"] = false;
      o["error"] = "target never became ready";
    }
    targets.push_back(std::move(o));
  }
  json::object doc{{"schema", "watchpost.smoke/v1"},
                   {"suite", clean(redact, run.suite_name)},
                   {"run_id", run.run_id},
                   {"passed", run.passed()},
                   {"tests", total},
                   {"failures", failed},
                   {"skipped", skipped},
                   {"targets", std::move(targets)}};
  return json::serialize(doc) + "\n";
}

std::string suite_failure_summary_json(const suite_run& run, const probes::redactor& redact) {
  json::array targets;
  for (const auto& t : run.targets) {
    if (t.result && t.result->passed()) continue;
    json::array failed;
    if (t.result) {
      for (const auto& c : t.result->checks) {
        if (c.passed() || c.skipped) continue;
        json::array failures;
        for (const auto& f : c.failures) failures.emplace_back(clean(redact, f));
        failed.push_back(json::object{{"name", clean(redact, c.name)},
                                      {"result", result_name(c)},
                                      {"failures", std::move(failures)}});
      }
    }
    targets.push_back(json::object{{"target", clean(redact, t.target)},
                                   {"ready", t.result.has_value()},
                                   {"failed_checks", std::move(failed)}});
  }
  json::object doc{{"event", "smoke_failed"},
                   {"suite", clean(redact, run.suite_name)},
                   {"run_id", run.run_id},
                   {"targets", std::move(targets)}};
  return json::serialize(doc);
}

std::string suite_console(const suite_run& run, const probes::redactor& redact) {
  std::string out;
  for (const auto& t : run.targets) {
    out += clean(redact, run.suite_name) + " @ " + clean(redact, t.target) + "\n";
    if (!t.result) {
      out += "  \u2717 target never became ready\n";
      continue;
    }
    const auto& r = *t.result;
    std::size_t width = 0;
    for (const auto& c : r.checks) width = std::max(width, c.name.size());
    width = std::min<std::size_t>(width, 60);
    for (const auto& c : r.checks) {
      std::string line = c.skipped ? "  - " : c.passed() ? "  \u2713 " : "  \u2717 ";
      std::string name = clean(redact, c.name);
      if (name.size() < width) name.append(width - name.size(), ' ');
      line += name;
      if (!c.request_line.empty()) line += "  " + clean(redact, c.request_line);
      if (c.skipped) {
        line += "  skipped: " + clean(redact, c.skip_reason);
      } else {
        if (c.response.status) line += "  " + std::to_string(c.response.status);
        line += "  " + format_duration(c.duration);
        if (c.attempts > 1) line += "  (" + std::to_string(c.attempts) + " attempts)";
      }
      out += line + "\n";
      for (const auto& f : c.failures) out += "      " + clean(redact, f) + "\n";
    }
    out += "  " + std::to_string(r.checks.size() - r.failed_count() - r.skipped_count()) + " passed, " +
           std::to_string(r.failed_count()) + " failed, " + std::to_string(r.skipped_count()) + " skipped in " +
           format_duration(r.duration) + "\n";
  }
  return out;
}

}  // namespace watchpost::exporters
