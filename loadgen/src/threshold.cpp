#include "watchpost/loadgen/threshold.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace watchpost::loadgen {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<double> to_double(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool is_latency(threshold_metric m) {
  return m == threshold_metric::latency_quantile || m == threshold_metric::latency_min ||
         m == threshold_metric::latency_mean || m == threshold_metric::latency_max;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::variant<threshold, threshold_error> parse_threshold(std::string_view text) {
  threshold t;
  t.text = std::string(trim(text));
  std::string_view body = t.text;
  auto fail = [&](const std::string& why) { return threshold_error{"threshold '" + t.text + "': " + why}; };

  if (auto comma = body.find(','); comma != std::string_view::npos) {
    std::string_view option = trim(body.substr(comma + 1));
    body = trim(body.substr(0, comma));
    if (!option.starts_with("window="))
      return fail("unknown option '" + std::string(option) + "' (expected window=DURATION)");
    auto d = parse_duration(option.substr(7));
    if (!d || *d < std::chrono::seconds(1) || *d % std::chrono::seconds(1) != nanoseconds{0})
      return fail("window must be a whole number of seconds, at least 1s (e.g. window=10s)");
    t.window = *d;
  }

  const auto op_pos = body.find_first_of("<>");
  if (op_pos == std::string_view::npos) return fail("missing comparison (<, <=, >, >=), e.g. p99<250ms");
  const std::string_view name = trim(body.substr(0, op_pos));
  std::string_view rest = body.substr(op_pos);
  const bool or_equal = rest.size() > 1 && rest[1] == '=';
  t.op = rest[0] == '<' ? (or_equal ? comparison::less_equal : comparison::less)
                        : (or_equal ? comparison::greater_equal : comparison::greater);
  const std::string_view value = trim(rest.substr(or_equal ? 2 : 1));
  if (value.empty()) return fail("missing value after the comparison");

  if (name == "error_rate") {
    t.metric = threshold_metric::error_rate;
  } else if (name == "rps") {
    t.metric = threshold_metric::rps;
  } else if (name == "requests") {
    t.metric = threshold_metric::requests;
  } else if (name == "errors") {
    t.metric = threshold_metric::errors;
  } else if (name == "min") {
    t.metric = threshold_metric::latency_min;
  } else if (name == "mean" || name == "avg") {
    t.metric = threshold_metric::latency_mean;
  } else if (name == "max") {
    t.metric = threshold_metric::latency_max;
  } else if (name.size() > 1 && name[0] == 'p') {
    auto q = to_double(name.substr(1));
    if (!q || *q <= 0 || *q > 100) return fail("percentile must be p0..p100 (e.g. p99, p99.9)");
    t.metric = threshold_metric::latency_quantile;
    t.quantile = *q / 100.0;
  } else {
    return fail("unknown metric '" + std::string(name) +
                "' (use pNN, min, mean, max, error_rate, rps, requests, errors)");
  }

  if (is_latency(t.metric)) {
    auto d = parse_duration(value);
    if (!d) return fail("latency value must be a duration such as 250ms");
    t.value = static_cast<double>(d->count());
  } else if (t.metric == threshold_metric::error_rate) {
    std::optional<double> v;
    if (value.back() == '%') {
      v = to_double(value.substr(0, value.size() - 1));
      if (v) *v /= 100.0;
    } else {
      v = to_double(value);
    }
    if (!v || *v < 0 || *v > 1) return fail("error_rate must be a percentage (0.1%) or a fraction in [0, 1]");
    t.value = *v;
  } else {
    auto v = to_double(value);
    if (!v || *v < 0) return fail("value must be a non-negative number");
    t.value = *v;
  }
  return t;
}

observation observe(const threshold& t, const window_stats& w) {
  const bool has_latency = w.latency != nullptr && w.latency->count() > 0;
  if (is_latency(t.metric) && !has_latency) return std::nullopt;
  const std::uint64_t attempts = w.requests + w.dropped;
  switch (t.metric) {
    case threshold_metric::latency_quantile:
      return static_cast<double>(w.latency->value_at_quantile(t.quantile));
    case threshold_metric::latency_min:
      return static_cast<double>(w.latency->min());
    case threshold_metric::latency_mean:
      return w.latency->mean();
    case threshold_metric::latency_max:
      return static_cast<double>(w.latency->max());
    case threshold_metric::error_rate:
      // Zero requests is not 0% errors; a dropped send is a failed one.
      if (attempts == 0) return std::nullopt;
      return static_cast<double>(w.errors + w.dropped) / static_cast<double>(attempts);
    case threshold_metric::rps:
      if (w.requests == 0 || !(w.seconds > 0)) return std::nullopt;
      return static_cast<double>(w.requests) / w.seconds;
    case threshold_metric::requests:
      return static_cast<double>(w.requests);  // a count: zero is a measurement
    case threshold_metric::errors:
      if (attempts == 0) return std::nullopt;
      return static_cast<double>(w.errors);
  }
  return std::nullopt;
}

bool holds(const threshold& t, observation observed) {
  if (!observed) return false;
  switch (t.op) {
    case comparison::less:
      return *observed < t.value;
    case comparison::less_equal:
      return *observed <= t.value;
    case comparison::greater:
      return *observed > t.value;
    case comparison::greater_equal:
      return *observed >= t.value;
  }
  return false;
}

std::string describe_observed(const threshold& t, observation observed) {
  if (!observed) return is_latency(t.metric) ? "no responses measured" : "no requests measured";
  std::string name = t.text.substr(0, t.text.find_first_of("<>"));
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (is_latency(t.metric)) return name + "=" + format_duration(nanoseconds(std::llround(*observed)));
  if (t.metric == threshold_metric::error_rate) return name + "=" + fixed(*observed * 100, 3) + "%";
  if (t.metric == threshold_metric::rps) return name + "=" + fixed(*observed, 1);
  return name + "=" + fixed(*observed, 0);
}

}  // namespace watchpost::loadgen
