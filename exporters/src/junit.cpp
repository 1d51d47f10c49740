#include "watchpost/exporters/junit.hpp"

#include <cstdio>

#include "watchpost/exporters/probe_report.hpp"

namespace watchpost::exporters {

std::string xml_escape(std::string_view raw) {
  const std::string text = valid_utf8(raw);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        // XML 1.0 forbids the other C0 controls, even as character references.
        if (static_cast<unsigned char>(c) >= 0x20)
          out += c;
        else
          out += '?';
    }
  }
  return out;
}

namespace {

std::string seconds(nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", to_seconds(d));
  return buf;
}

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value) + "\"";
}

}  // namespace

std::string suite_junit(const suite_run& run, const probes::redactor& redact) {
  auto r = [&](std::string_view s) { return redact(s); };
  std::size_t tests = 0, failures = 0, skipped = 0;
  nanoseconds total{0};
  std::string body;
  for (const auto& t : run.targets) {
    const std::string suite_name = r(run.suite_name) + " @ " + r(t.target);
    if (!t.result) {
      // A target that never answered is one failed test, so the report cannot look green.
      ++tests;
      ++failures;
      body += "  <testsuite" + attr("name", suite_name) +
              " tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"0\">\n";
      body += "    <testcase" + attr("name", "target is ready") + attr("classname", suite_name) +
              " time=\"0\">\n";
      body += "      <failure" +
              attr("message", "expected any HTTP response, got none before --wait-ready ran out") +
              attr("type", "not_ready") + "/>\n    </testcase>\n  </testsuite>\n";
      continue;
    }
    const auto& res = *t.result;
    tests += res.checks.size();
    failures += res.failed_count();
    skipped += res.skipped_count();
    total += res.duration;
    body += "  <testsuite" + attr("name", suite_name) + " tests=\"" + std::to_string(res.checks.size()) +
            "\" failures=\"" + std::to_string(res.failed_count()) + "\" errors=\"0\" skipped=\"" +
            std::to_string(res.skipped_count()) + "\" time=\"" + seconds(res.duration) + "\"" +
            attr("timestamp", iso8601(res.started).substr(0, 19)) + ">\n";
    for (const auto& c : res.checks) {
      body += "    <testcase" + attr("name", r(c.name)) + attr("classname", suite_name) + " time=\"" +
              seconds(c.duration) + "\"";
      if (c.passed()) {
        body += "/>\n";
        continue;
      }
      body += ">\n";
      if (c.skipped) {
        body += "      <skipped" + attr("message", r(c.skip_reason)) + "/>\n";
      } else {
        std::string message, detail;
        for (const auto& f : c.failures) {
          message += (message.empty() ? "" : "; ") + r(f);
          detail += r(f) + "\n";
        }
        body += "      <failure" + attr("message", message) + attr("type", probes::to_string(c.kind)) + ">" +
                xml_escape(r(c.request_line) + "\n" + detail) + "</failure>\n";
      }
      body += "    </testcase>\n";
    }
    body += "  </testsuite>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" + attr("name", r(run.suite_name)) +
         " tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"0\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + seconds(total) + "\">\n" +
         body + "</testsuites>\n";
}

}  // namespace watchpost::exporters
