#include "watchpost/exporters/suite_report.hpp"

#include <simdjson.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "watchpost/common/text_file.hpp"
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
    if (c.response.status != 0) o["protocol"] = probes::protocol_name(c.response.protocol);
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

namespace {

// A value of the report with its path, for messages such as
// "smoke report: targets[0].checks[2]: missing field 'status'".
struct report_node {
  simdjson::dom::element value;
  std::string path;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("smoke report: " + (path.empty() ? "" : path + ": ") + what);
  }
  simdjson::dom::object object() const {
    simdjson::dom::object o;
    if (value.get_object().get(o) != simdjson::SUCCESS) fail("expected an object");
    return o;
  }
  bool has(std::string_view key) const {
    simdjson::dom::element ignored;
    return object()[key].get(ignored) == simdjson::SUCCESS;
  }
  report_node operator[](std::string_view key) const {
    simdjson::dom::element child;
    if (object()[key].get(child) != simdjson::SUCCESS) fail("missing field '" + std::string(key) + "'");
    return {child, path.empty() ? std::string(key) : path + "." + std::string(key)};
  }
  std::vector<report_node> items() const {
    simdjson::dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) fail("expected an array");
    std::vector<report_node> out;
    for (simdjson::dom::element e : array) out.push_back({e, path + "[" + std::to_string(out.size()) + "]"});
    return out;
  }
  std::string text() const {
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) fail("expected a string");
    return std::string(s);
  }
  std::int64_t integer() const {
    std::int64_t n;
    if (value.get_int64().get(n) != simdjson::SUCCESS) fail("expected an integer");
    return n;
  }
  bool boolean() const {
    bool b;
    if (value.get_bool().get(b) != simdjson::SUCCESS) fail("expected true or false");
    return b;
  }
  nanoseconds micros() const { return std::chrono::microseconds(integer()); }
  std::chrono::system_clock::time_point time() const {
    const auto t = parse_iso8601(text());
    if (!t) fail("expected a UTC time like 2027-02-21T14:02:06Z");
    return *t;
  }
};

probes::phase_timings read_timings(const report_node& t) {
  return {t["resolve"].micros(), t["connect"].micros(),  t["tls"].micros(),
          t["ttfb"].micros(),    t["transfer"].micros(), t["total"].micros()};
}

probes::check_outcome read_check(const report_node& c) {
  probes::check_outcome out;
  out.name = c["name"].text();
  out.request_line = c["request"].text();
  out.skipped = c["skipped"].boolean();
  const std::string result = c["result"].text();
  if (out.skipped ? result != "skipped" : !probes::parse_failure_kind(result, out.kind))
    c["result"].fail("unexpected result '" + result + "'");
  for (const auto& f : c["failures"].items()) out.failures.push_back(f.text());
  out.attempts = static_cast<int>(c["attempts"].integer());
  out.duration = c["duration_us"].micros();
  if (out.skipped) {
    out.skip_reason = c["skip_reason"].text();
  } else {
    out.response.status = static_cast<int>(c["status"].integer());
    out.response.timings = read_timings(c["timings_us"]);
    if (c.has("protocol") && (!probes::parse_http_version(c["protocol"].text(), out.response.protocol) ||
                              out.response.protocol == probes::http_version::auto_))
      c["protocol"].fail("unexpected protocol '" + c["protocol"].text() + "'");
    if (c.has("tls")) {
      const auto tls = c["tls"];
      auto& info = out.response.tls;
      info.present = true;
      info.version = tls["version"].text();
      info.cipher = tls["cipher"].text();
      info.cert_subject = tls["cert_subject"].text();
      if (tls.has("cert_not_after")) info.cert_not_after = tls["cert_not_after"].time();
      if (tls.has("alpn")) info.alpn = tls["alpn"].text();
    }
  }
  if (c["passed"].boolean() != out.passed()) c["passed"].fail("contradicts the result");
  return out;
}

// The counts a report states must be the ones its checks give.
void check_count(const report_node& n, std::string_view key, std::size_t actual) {
  if (n[key].integer() != static_cast<std::int64_t>(actual))
    n[key].fail("says " + std::to_string(n[key].integer()) + ", the checks give " + std::to_string(actual));
}

target_run read_target(const std::string& suite_name, const report_node& t) {
  target_run out{t["target"].text(), std::nullopt};
  if (!t["ready"].boolean()) return out;
  probes::suite_result r;
  r.suite_name = suite_name;
  r.target = out.target;
  r.started = t["started"].time();
  r.duration = t["duration_us"].micros();
  for (const auto& c : t["checks"].items()) r.checks.push_back(read_check(c));
  check_count(t, "tests", r.checks.size());
  check_count(t, "failures", r.failed_count());
  check_count(t, "skipped", r.skipped_count());
  if (t["passed"].boolean() != r.passed()) t["passed"].fail("contradicts the checks");
  out.result = std::move(r);
  return out;
}

}  // namespace

suite_run parse_suite_report(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(simdjson::padded_string(json)).get(doc); error != simdjson::SUCCESS)
    throw std::runtime_error(std::string("smoke report: not valid JSON (") + simdjson::error_message(error) +
                             ")");
  const report_node root{doc, ""};
  if (root["schema"].text() != "watchpost.smoke/v1")
    root["schema"].fail("expected \"watchpost.smoke/v1\", got \"" + root["schema"].text() + "\"");
  suite_run run{root["suite"].text(), root["run_id"].text(), {}};
  for (const auto& t : root["targets"].items()) run.targets.push_back(read_target(run.suite_name, t));
  std::size_t tests = 0, failures = 0, skipped = 0;
  for (const auto& t : run.targets) {
    if (!t.result) continue;
    tests += t.result->checks.size();
    failures += t.result->failed_count();
    skipped += t.result->skipped_count();
  }
  check_count(root, "tests", tests);
  check_count(root, "failures", failures);
  check_count(root, "skipped", skipped);
  if (root["passed"].boolean() != run.passed()) root["passed"].fail("contradicts the targets");
  return run;
}

suite_run read_suite_report_file(const std::string& path) {
  const auto text = read_text_file(path);
  if (!text) throw std::runtime_error(path + ": cannot read");
  try {
    return parse_suite_report(*text);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
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
        failed.push_back(json::object{
            {"name", clean(redact, c.name)}, {"result", result_name(c)}, {"failures", std::move(failures)}});
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
           std::to_string(r.failed_count()) + " failed, " + std::to_string(r.skipped_count()) +
           " skipped in " + format_duration(r.duration) + "\n";
  }
  return out;
}

}  // namespace watchpost::exporters
