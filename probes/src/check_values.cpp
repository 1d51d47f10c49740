// The small values of an expectation: comparisons ("> 3"), status rules (200, 2xx) and the
// captures an expectation refers to.
#include "check_text.hpp"
#include "watchpost/probes/check.hpp"

namespace watchpost::probes {

using detail::split_operator;
using detail::to_double;
using detail::trim;

bool comparison::holds(double actual) const {
  switch (oper) {
    case op::lt:
      return actual < value;
    case op::le:
      return actual <= value;
    case op::gt:
      return actual > value;
    case op::ge:
      return actual >= value;
    case op::eq:
      return actual == value;
    case op::ne:
      return actual != value;
  }
  return false;
}

std::optional<comparison> parse_comparison(std::string_view text) {
  auto split = split_operator(text);
  if (!split) return std::nullopt;
  auto value = to_double(split->second);
  if (!value) return std::nullopt;
  return comparison{split->first, *value, trim(text)};
}

bool status_rule::matches(int status) const {
  for (int c : codes)
    if (c == status) return true;
  for (int k : classes)
    if (status / 100 == k) return true;
  return false;
}

std::string status_rule::describe() const {
  std::vector<std::string> parts;
  for (int c : codes) parts.push_back(std::to_string(c));
  for (int k : classes) parts.push_back(std::to_string(k) + "xx");
  if (parts.size() == 1) return parts.front();
  std::string out = "[";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out + "]";
}

std::set<std::string> expectation::captures_used() const {
  std::set<std::string> names;
  auto add = [&](const text_template& t) { names.merge(t.captures_used()); };
  for (const auto& h : headers) add(h.value);
  for (const auto& b : body) add(b.value);
  for (const auto& j : json) add(j.expected);
  return names;
}

}  // namespace watchpost::probes
