#include "watchpost/exporters/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace watchpost::exporters {

namespace pm = prometheus;

namespace {

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

// One series: its label block is written once into `labels` (a buffer reused across series: no
// allocation per series) and copied into each of its lines.
class series_writer {
 public:
  series_writer(std::string& out, std::string& labels, const pm::MetricFamily& family,
                const pm::ClientMetric& metric)
      : out_(out), family_(family), metric_(metric), labels_(labels) {
    labels_.clear();
    for (const auto& l : metric.label) {
      labels_ += labels_.empty() ? "" : ",";
      labels_ += l.name;
      labels_ += "=\"";
      append_escaped(labels_, l.value, "\\\"\n");
      labels_ += '"';
    }
  }

  // name<suffix>{labels[,extra="..."]} without the value.
  void head(std::string_view suffix = {}, std::string_view extra_name = {}, double extra_value = 0) {
    out_ += family_.name;
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

  void tail() {
    if (metric_.timestamp_ms != 0) {
      out_ += ' ';
      char buf[24];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, metric_.timestamp_ms);
      out_.append(buf, static_cast<std::size_t>(end - buf));
    }
    out_ += '\n';
  }

  void value_line(double v, std::string_view suffix = {}) {
    head(suffix);
    append_number(out_, v);
    tail();
  }

  void count_line(std::uint64_t v, std::string_view suffix, std::string_view extra_name = {},
                  double extra_value = 0) {
    head(suffix, extra_name, extra_value);
    append_count(out_, v);
    tail();
  }

 private:
  std::string& out_;
  const pm::MetricFamily& family_;
  const pm::ClientMetric& metric_;
  std::string& labels_;
};

void append_series(std::string& out, std::string& labels, const pm::MetricFamily& family,
                   const pm::ClientMetric& metric) {
  series_writer w(out, labels, family, metric);
  switch (family.type) {
    case pm::MetricType::Counter:
      w.value_line(metric.counter.value);
      break;
    case pm::MetricType::Gauge:
      w.value_line(metric.gauge.value);
      break;
    case pm::MetricType::Untyped:
      w.value_line(metric.untyped.value);
      break;
    case pm::MetricType::Summary:
      w.count_line(metric.summary.sample_count, "_count");
      w.value_line(metric.summary.sample_sum, "_sum");
      for (const auto& q : metric.summary.quantile) {
        w.head({}, "quantile", q.quantile);
        append_number(out, q.value);
        w.tail();
      }
      break;
    case pm::MetricType::Histogram: {
      const auto& h = metric.histogram;
      w.count_line(h.sample_count, "_count");
      w.value_line(h.sample_sum, "_sum");
      constexpr double inf = std::numeric_limits<double>::infinity();
      for (const auto& b : h.bucket) w.count_line(b.cumulative_count, "_bucket", "le", b.upper_bound);
      if (h.bucket.empty() || h.bucket.back().upper_bound != inf)
        w.count_line(h.sample_count, "_bucket", "le", inf);
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

void append_prometheus_text(std::string& out, const std::vector<pm::MetricFamily>& families) {
  std::string labels;
  for (const auto& family : families) {
    if (!family.help.empty()) {
      out += "# HELP ";
      out += family.name;
      out += ' ';
      append_escaped(out, family.help, "\\\n");
      out += '\n';
    }
    out += "# TYPE ";
    out += family.name;
    out += ' ';
    out += type_name(family.type);
    out += '\n';
    for (const auto& metric : family.metric) append_series(out, labels, family, metric);
  }
}

}  // namespace watchpost::exporters
