#include "watchpost/agent/log.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace watchpost::agent {

namespace {
log_format current_format = log_format::text;

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

const char* level_name(log_level level) {
  switch (level) {
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
  }
  return "info";
}

// Text values with spaces or quotes are quoted so a line stays machine-splittable.
void append_value(std::string& line, const std::string& value) {
  if (!value.empty() && value.find_first_of(" \"=\n") == std::string::npos) {
    line += value;
    return;
  }
  line += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') line += '\\';
    line += c == '\n' ? ' ' : c;
  }
  line += '"';
}
}  // namespace

void set_log_format(log_format format) { current_format = format; }

void log_event(log_level level, std::string_view message,
               std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  std::string line;
  if (current_format == log_format::json) {
    boost::json::object o;
    o["ts"] = timestamp();
    o["level"] = level_name(level);
    o["msg"] = message;
    for (const auto& [k, v] : fields) o[k] = v;
    line = boost::json::serialize(o);
  } else {
    line = timestamp() + " " + level_name(level) + " ";
    append_value(line, std::string(message));
    for (const auto& [k, v] : fields) {
      line.append(" ").append(k).append("=");
      append_value(line, v);
    }
  }
  line += '\n';
  // One fwrite per line: stdio locks the stream, so lines from threads never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace watchpost::agent
