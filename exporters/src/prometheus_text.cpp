#include "watchpost/exporters/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace watchpost::exporters {

namespace pm = prometheus;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// 2^53: every integer up to it is a double exactly, and is written as one.
constexpr double exact_integer_limit = 9007199254740992.0;

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
    return;
  }
  char buf[32];
  // Counters, counts and Unix timestamps read best as integers; to_chars alone writes 1e+06.
  const auto [end, ec] = std::trunc(v) == v && std::fabs(v) < exact_integer_limit
                             ? std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v))
                             : std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

void append_count(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// Label values escape backslash, double quote and line feed; HELP text backslash and line feed.
void append_escaped(std::string& out, std::string_view text, std::string_view specials) {
  for (std::size_t at = 0;;) {
    const std::size_t hit = text.find_first_of(specials, at);
    out.append(text.substr(at, hit == std::string_view::npos ? std::string_view::npos : hit - at));
    if (hit == std::string_view::npos) return;
    out += '\\';
    out += text[hit] == '\n' ? 'n' : text[hit];
    at = hit + 1;
  }
}

void append_series(std::string& out, std::string& labels, const pm::MetricFamily& family,
                   const pm::ClientMetric& metric) {
  labels.clear();
  for (const auto& l : metric.label) append_label(labels, l.name, l.value);
  series_text w(out, family.name, labels, metric.timestamp_ms);
  switch (family.type) {
    case pm::MetricType::Counter:
      w.value(metric.counter.value);
      break;
    case pm::MetricType::Gauge:
      w.value(metric.gauge.value);
      break;
    case pm::MetricType::Untyped:
      w.value(metric.untyped.value);
      break;
    case pm::MetricType::Summary:
      w.count_line(metric.summary.sample_count, "_count");
      w.value(metric.summary.sample_sum, "_sum");
      for (const auto& q : metric.summary.quantile) w.value(q.value, {}, "quantile", q.quantile);
      break;
    case pm::MetricType::Histogram: {
      const auto& h = metric.histogram;
      w.count_line(h.sample_count, "_count");
      w.value(h.sample_sum, "_sum");
      for (const auto& b : h.bucket) w.bucket(b.upper_bound, b.cumulative_count);
      if (h.bucket.empty() || h.bucket.back().upper_bound != inf) w.bucket(inf, h.sample_count);
      break;
    }
  }
}

std::string_view type_name(pm::MetricType type) {
  switch (type) {
    case pm::MetricType::Counter:
      return "counter";
    case pm::MetricType::Gauge:
      return "gauge";
    case pm::MetricType::Summary:
      return "summary";
    case pm::MetricType::Histogram:
      return "histogram";
    case pm::MetricType::Untyped:
      break;
  }
  return "untyped";
}

}  // namespace

void append_label(std::string& block, std::string_view name, std::string_view value) {
  if (!block.empty()) block += ',';
  block += name;
  block += "=\"";
  append_escaped(block, value, "\\\"\n");
  block += '"';
}

void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          pm::MetricType type) {
  if (!help.empty()) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, help, "\\\n");
    out += '\n';
  }
  out += "# TYPE ";
  out += name;
  out += ' ';
  out += type_name(type);
  out += '\n';
}

void series_text::head(std::string_view suffix, std::string_view extra_name, double extra_value) {
  out_ += name_;
  out_ += suffix;
  if (labels_.empty() && extra_name.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  out_ += labels_;
  if (!extra_name.empty()) {
    if (!labels_.empty()) out_ += ',';
    out_ += extra_name;
    out_ += "=\"";
    append_number(out_, extra_value);
    out_ += '"';
  }
  out_ += "} ";
}

void series_text::tail() {
  if (timestamp_ms_ != 0) {
    out_ += ' ';
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, timestamp_ms_);
    out_.append(buf, static_cast<std::size_t>(end - buf));
  }
  out_ += '\n';
}

void series_text::value(double v, std::string_view suffix, std::string_view extra_name, double extra_value) {
  head(suffix, extra_name, extra_value);
  append_number(out_, v);
  tail();
}

void series_text::count_line(std::uint64_t v, std::string_view suffix, std::string_view extra_name,
                             double extra_value) {
  head(suffix, extra_name, extra_value);
  append_count(out_, v);
  tail();
}

void append_prometheus_text(std::string& out, const std::vector<pm::MetricFamily>& families) {
  std::string labels;
  for (const auto& family : families) {
    append_family_header(out, family.name, family.help, family.type);
    for (const auto& metric : family.metric) append_series(out, labels, family, metric);
  }
}

}  // namespace watchpost::exporters
