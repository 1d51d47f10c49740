#include "check_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace watchpost::probes::detail {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::pair<comparison::op, std::string>> split_operator(std::string_view text) {
  const std::string t = trim(text);
  static constexpr std::pair<std::string_view, comparison::op> ops[] = {
      {"<=", comparison::op::le}, {">=", comparison::op::ge}, {"==", comparison::op::eq},
      {"!=", comparison::op::ne}, {"<", comparison::op::lt},  {">", comparison::op::gt}};
  for (const auto& [symbol, o] : ops)
    if (t.starts_with(symbol)) return std::pair{o, trim(std::string_view(t).substr(symbol.size()))};
  return std::nullopt;
}

std::optional<double> to_double(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

std::string number_text(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string excerpt(std::string_view raw, const redactor& mask, std::size_t limit) {
  const std::string masked = mask(raw);
  const std::string_view text = masked;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const char c = text[i];
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '"')
      out += "\\\"";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += '?';
    else
      out += c;
  }
  out += text.size() > limit ? "...\"" : "\"";
  return out;
}

std::string quoted(std::string_view text, const redactor& mask) { return excerpt(text, mask, 200); }

}  // namespace watchpost::probes::detail
