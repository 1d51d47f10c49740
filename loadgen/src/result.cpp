#include "watchpost/loadgen/result.hpp"

#include <algorithm>

namespace watchpost::loadgen {

void counters::merge(const counters& other) {
  requests += other.requests;
  errors += other.errors;
  bytes_read += other.bytes_read;
  dropped += other.dropped;
  in_flight_at_end += other.in_flight_at_end;
  reconnects += other.reconnects;
  for (std::size_t i = 0; i < errors_by_kind.size(); ++i) errors_by_kind[i] += other.errors_by_kind[i];
  for (const auto& [code, n] : other.status_counts) status_counts[code] += n;
}

void add_failure_message(failure_messages& into, const std::string& message, std::uint64_t count) {
  auto it = into.find(message);
  if (it == into.end() && into.size() >= max_failure_messages)
    it = into.try_emplace(std::string(other_failure_messages)).first;
  else if (it == into.end())
    it = into.try_emplace(message).first;
  it->second += count;
}

void merge_failure_messages(failure_messages& into, const failure_messages& from) {
  for (const auto& [message, n] : from) add_failure_message(into, message, n);
}

void series_point::set_latency(const stats::histogram& h) {
  latency = h.serialize();
  p50 = h.value_at_quantile(0.50);
  p90 = h.value_at_quantile(0.90);
  p99 = h.value_at_quantile(0.99);
  max = h.max();
}

namespace {

stats::histogram parse_or_empty(const std::string& text) {
  if (text.empty()) return {};
  auto h = stats::histogram::parse(text);
  return h ? std::move(*h) : stats::histogram{};
}

series_point& point_at(std::vector<series_point>& series, std::int64_t second) {
  auto it = std::lower_bound(series.begin(), series.end(), second,
                             [](const series_point& p, std::int64_t s) { return p.second < s; });
  if (it == series.end() || it->second != second) {
    series_point p;
    p.second = second;
    it = series.insert(it, std::move(p));
  }
  return *it;
}

void merge_point(series_point& into, const counters& c, const stats::histogram& h) {
  into.totals.merge(c);
  if (h.count() == 0) return;
  stats::histogram merged = parse_or_empty(into.latency);
  merged.merge(h);
  into.set_latency(merged);
}

}  // namespace

void load_result::add_interval(std::int64_t second, const counters& c, const stats::histogram& corrected,
                               const stats::histogram& uncorrected) {
  totals.merge(c);
  latency.merge(corrected);
  uncorrected_latency.merge(uncorrected);
  merge_point(point_at(series, second), c, corrected);
}

void load_result::merge(const load_result& other) {
  totals.merge(other.totals);
  latency.merge(other.latency);
  uncorrected_latency.merge(other.uncorrected_latency);
  merge_failure_messages(assertion_failures, other.assertion_failures);
  for (const auto& p : other.series)
    merge_point(point_at(series, p.second), p.totals, parse_or_empty(p.latency));
  elapsed_seconds = std::max(elapsed_seconds, other.elapsed_seconds);
  interrupted = interrupted || other.interrupted;
  // Shards on different machines may have run different back ends: both are named.
  if (io_backend.empty()) {
    io_backend = other.io_backend;
    io_backend_reason = other.io_backend_reason;
  } else if (!other.io_backend.empty() && other.io_backend != io_backend) {
    io_backend += "," + other.io_backend;
    if (io_backend_reason.empty()) io_backend_reason = other.io_backend_reason;
  }
  parameters.connections += other.parameters.connections;
  parameters.rate += other.parameters.rate;
  parameters.max_requests += other.parameters.max_requests;
  parameters.threads += other.parameters.threads;
  parameters.shard_index = 0;
  parameters.shard_count = 1;
}

namespace {

struct window_eval {
  observation worst;
  bool any = false;
  bool passed = true;
  std::int64_t from = 0, to = 0;
};

// Is `a` a worse observation than `b` for this threshold (further from passing)? Nothing
// measured is the worst of all.
bool worse(const threshold& t, observation a, observation b) {
  if (!a || !b) return !a && b;
  return (t.op == comparison::less || t.op == comparison::less_equal) ? *a > *b : *a < *b;
}

// Evaluates the windows of `width` seconds ending at each index in [first_end, last_end].
window_eval evaluate_windows(const threshold& t, const load_result& r, std::size_t first_end,
                             std::size_t last_end, std::int64_t width) {
  window_eval ev;
  const auto& s = r.series;
  for (std::size_t end = first_end; end <= last_end && end < s.size(); ++end) {
    counters c;
    stats::histogram h;
    std::int64_t lo = s[end].second - width + 1;
    for (std::size_t i = end + 1; i-- > 0 && s[i].second >= lo;) {
      c.merge(s[i].totals);
      if (!s[i].latency.empty()) h.merge(parse_or_empty(s[i].latency));
    }
    window_stats w{c.requests, c.errors, static_cast<double>(width), &h, c.dropped};
    const observation v = observe(t, w);
    const bool ok = holds(t, v);
    if (!ev.any || (ev.passed && !ok) || (ok == ev.passed && worse(t, v, ev.worst))) {
      ev.worst = v;
      ev.from = lo;
      ev.to = s[end].second + 1;
    }
    ev.any = true;
    ev.passed = ev.passed && ok;
  }
  return ev;
}

threshold_outcome whole_run(const threshold& t, const load_result& r) {
  window_stats w{r.totals.requests, r.totals.errors, r.elapsed_seconds, &r.latency, r.totals.dropped};
  const observation v = observe(t, w);
  return {t.text, holds(t, v), describe_observed(t, v), "whole run", v.has_value()};
}

threshold_outcome from_windows(const threshold& t, const window_eval& ev) {
  return {t.text, ev.passed, describe_observed(t, ev.worst),
          "window " + std::to_string(ev.from) + "s-" + std::to_string(ev.to) + "s", ev.worst.has_value()};
}

}  // namespace

std::vector<threshold_outcome> evaluate_thresholds(const std::vector<threshold>& thresholds,
                                                   const load_result& r) {
  std::vector<threshold_outcome> out;
  for (const auto& t : thresholds) {
    const std::int64_t width =
        t.window ? std::chrono::duration_cast<std::chrono::seconds>(*t.window).count() : 0;
    // A run shorter than its window (or without a series) is judged as a whole.
    if (width == 0 || r.series.empty() || r.series.back().second + 1 < width) {
      out.push_back(whole_run(t, r));
      continue;
    }
    std::size_t first_end = 0;
    while (first_end < r.series.size() && r.series[first_end].second + 1 < width) ++first_end;
    out.push_back(from_windows(t, evaluate_windows(t, r, first_end, r.series.size() - 1, width)));
  }
  return out;
}

std::vector<threshold_outcome> evaluate_latest_windows(const std::vector<threshold>& thresholds,
                                                       const load_result& r) {
  std::vector<threshold_outcome> out;
  for (const auto& t : thresholds) {
    if (!t.window || r.series.empty()) continue;
    const std::int64_t width = std::chrono::duration_cast<std::chrono::seconds>(*t.window).count();
    if (r.series.back().second + 1 < width) continue;
    const std::size_t last = r.series.size() - 1;
    out.push_back(from_windows(t, evaluate_windows(t, r, last, last, width)));
  }
  return out;
}

}  // namespace watchpost::loadgen
