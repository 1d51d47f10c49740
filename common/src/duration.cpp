#include "watchpost/common/duration.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace watchpost {

namespace {

// One "<number><unit>" term.
std::optional<double> parse_term(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t unit_pos = 0;
  while (unit_pos < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_pos])) || text[unit_pos] == '.'))
    ++unit_pos;
  if (unit_pos == 0 || unit_pos == text.size()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + unit_pos, value);
  if (ec != std::errc{} || end != text.data() + unit_pos || !std::isfinite(value)) return std::nullopt;
  std::string_view unit = text.substr(unit_pos);
  double scale = 0;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us" || unit == "µs")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s")
    scale = 1e9;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else if (unit == "d")
    scale = 86400e9;
  else
    return std::nullopt;
  return value * scale;
}

}  // namespace

std::optional<nanoseconds> parse_duration(std::string_view text) {
  // Terms add up, so format_duration's "2m30s" and "1h05m" read back (as in Go's ParseDuration).
  double ns = 0;
  do {
    std::size_t end = 0;
    while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
      ++end;
    while (end < text.size() && !std::isdigit(static_cast<unsigned char>(text[end])) && text[end] != '.')
      ++end;
    const auto term = parse_term(text.substr(0, end));
    if (!term) return std::nullopt;
    ns += *term;
    text.remove_prefix(end);
  } while (!text.empty());
  if (ns > 9.0e18) return std::nullopt;
  return nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
}

std::string format_duration(nanoseconds d) {
  char buf[32];
  const double ns = static_cast<double>(d.count());
  // A value that rounds to 1000 of a unit is printed in the next one ("1ms", not "1e+03us").
  if (ns < 1e3)
    std::snprintf(buf, sizeof buf, "%.0fns", ns);
  else if (ns < 999.5e3)
    std::snprintf(buf, sizeof buf, "%.3gus", ns / 1e3);
  else if (ns < 999.5e6)
    std::snprintf(buf, sizeof buf, "%.3gms", ns / 1e6);
  else if (ns < 60e9)
    std::snprintf(buf, sizeof buf, "%.3gs", ns / 1e9);
  else {
    auto total_s = static_cast<long long>(ns / 1e9);
    if (total_s < 3600)
      std::snprintf(buf, sizeof buf, "%lldm%02llds", total_s / 60, total_s % 60);
    else
      std::snprintf(buf, sizeof buf, "%lldh%02lldm", total_s / 3600, (total_s % 3600) / 60);
  }
  return buf;
}

}  // namespace watchpost
