#include "watchpost/exporters/load_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "watchpost/common/duration.hpp"
#include "watchpost/common/html.hpp"
#include "watchpost/exporters/load_console.hpp"

namespace watchpost::exporters {

namespace {

std::string num(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct line_series {
  std::string label;
  std::string color;
  std::vector<std::pair<double, double>> points;  // x, y
};

constexpr double chart_w = 760, chart_h = 240, margin_l = 70, margin_b = 36, margin_t = 16, margin_r = 16;

// A line chart with labelled axes; y_label formats axis values; log_x for distributions.
std::string chart(const std::string& title, const std::vector<line_series>& lines, const std::string& x_label,
                  std::string (*y_format)(double), std::string (*x_format)(double)) {
  double max_x = 0, max_y = 0, min_x = 0;
  bool first = true;
  for (const auto& l : lines)
    for (auto [x, y] : l.points) {
      if (first) min_x = max_x = x;
      first = false;
      min_x = std::min(min_x, x);
      max_x = std::max(max_x, x);
      max_y = std::max(max_y, y);
    }
  if (max_x <= min_x) max_x = min_x + 1;
  if (max_y <= 0) max_y = 1;
  max_y *= 1.1;
  const double pw = chart_w - margin_l - margin_r, ph = chart_h - margin_t - margin_b;
  auto sx = [&](double x) { return margin_l + (x - min_x) / (max_x - min_x) * pw; };
  auto sy = [&](double y) { return margin_t + ph - y / max_y * ph; };
  std::string svg = "<h2>" + html_escape(title) + "</h2>\n<svg xmlns='http://www.w3.org/2000/svg' width='" +
                    num(chart_w, 0) + "' height='" + num(chart_h, 0) + "' role='img' aria-label='" +
                    html_escape(title) + "'>\n";
  svg += "<rect x='" + num(margin_l, 0) + "' y='" + num(margin_t, 0) + "' width='" + num(pw, 0) +
         "' height='" + num(ph, 0) + "' fill='#fafafa' stroke='#ccc'/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double y = max_y * i / 4;
    svg += "<line x1='" + num(margin_l) + "' x2='" + num(margin_l + pw) + "' y1='" + num(sy(y)) + "' y2='" +
           num(sy(y)) + "' stroke='#e4e4e4'/><text x='" + num(margin_l - 6) + "' y='" + num(sy(y) + 4) +
           "' font-size='11' text-anchor='end'>" + html_escape(y_format(y)) + "</text>\n";
    const double x = min_x + (max_x - min_x) * i / 4;
    svg += "<text x='" + num(sx(x)) + "' y='" + num(margin_t + ph + 16) +
           "' font-size='11' text-anchor='middle'>" + html_escape(x_format(x)) + "</text>\n";
  }
  svg += "<text x='" + num(margin_l + pw / 2) + "' y='" + num(chart_h - 4) +
         "' font-size='12' text-anchor='middle'>" + html_escape(x_label) + "</text>\n";
  double legend_x = margin_l + 8;
  for (const auto& l : lines) {
    std::string pts;
    for (auto [x, y] : l.points) pts += num(sx(x)) + "," + num(sy(y)) + " ";
    svg += "<polyline fill='none' stroke='" + l.color + "' stroke-width='1.8' points='" + pts + "'/>\n";
    svg += "<rect x='" + num(legend_x) + "' y='" + num(margin_t + 6) + "' width='10' height='10' fill='" +
           l.color + "'/><text x='" + num(legend_x + 14) + "' y='" + num(margin_t + 15) +
           "' font-size='11'>" + html_escape(l.label) + "</text>\n";
    legend_x += 24 + 7.0 * static_cast<double>(l.label.size());
  }
  svg += "</svg>\n";
  return svg;
}

std::string fmt_ms(double ms) { return num(ms, ms < 10 ? 2 : 0) + " ms"; }
std::string fmt_count(double v) { return num(v, 0); }
std::string fmt_seconds(double s) { return num(s, 0) + "s"; }
std::string fmt_percentile(double x) {
  // x is -log10(1 - q): 0 -> p0, 1 -> p90, 2 -> p99, 3 -> p99.9
  const double q = 100.0 * (1.0 - std::pow(10.0, -x));
  return "p" + num(q, x >= 3 ? 2 : (x >= 2 ? 1 : 0));
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

std::string load_report_html(const loadgen::load_result& r,
                             const std::vector<loadgen::threshold_outcome>& outcomes) {
  std::string html =
      "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>watchpost load report</title>\n"
      "<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:24px auto;color:#222}"
      "pre{background:#f4f4f4;padding:12px;overflow-x:auto}h2{font-size:16px;margin-top:28px}"
      ".pass{color:#1a7f37}.fail{color:#c62828;font-weight:bold}</style></head><body>\n";
  html += "<h1>Load test: " + html_escape(r.parameters.target) + "</h1>\n";
  bool passed = true;
  for (const auto& o : outcomes) passed = passed && o.passed;
  if (!outcomes.empty())
    html += std::string("<p class='") +
            (passed ? "pass'>All thresholds passed." : "fail'>Thresholds failed.") + "</p>\n";
  html +=
      "<p>Each point below is one second of the run. In the open model, latency counts from the time each "
      "request was <em>scheduled</em> to be sent, so a stalled server shows as a latency spike rather than "
      "as fewer requests (coordinated omission corrected).</p>\n";
  html += "<h2>Summary</h2>\n<pre>" + html_escape(load_summary(r, outcomes)) + "</pre>\n";

  line_series rps{"requests/s", "#1f77b4", {}}, errors{"errors/s", "#d62728", {}};
  line_series p50{"p50", "#2ca02c", {}}, p90{"p90", "#ff7f0e", {}}, p99{"p99", "#d62728", {}},
      max{"max", "#9467bd", {}};
  for (const auto& s : r.series) {
    const double x = static_cast<double>(s.second + 1);
    rps.points.emplace_back(x, static_cast<double>(s.totals.requests));
    errors.points.emplace_back(x, static_cast<double>(s.totals.errors));
    p50.points.emplace_back(x, ms(s.p50));
    p90.points.emplace_back(x, ms(s.p90));
    p99.points.emplace_back(x, ms(s.p99));
    max.points.emplace_back(x, ms(s.max));
  }
  html += chart("Requests per second", {rps, errors}, "seconds since start", fmt_count, fmt_seconds);
  html += chart("Latency percentiles per second", {p50, p90, p99, max}, "seconds since start", fmt_ms,
                fmt_seconds);

  // The distribution: latency at each percentile, percentiles spread on a log scale as in
  // HdrHistogram plots so the tail is visible.
  auto distribution = [](const stats::histogram& h, std::string label, std::string color) {
    line_series l{std::move(label), std::move(color), {}};
    if (h.count() == 0) return l;
    for (double x = 0; x <= 4.0001; x += 0.05) {
      const double q = 1.0 - std::pow(10.0, -x);
      l.points.emplace_back(x, ms(h.value_at_quantile(q)));
    }
    return l;
  };
  std::vector<line_series> dist{distribution(r.latency, r.open_model() ? "corrected" : "latency", "#1f77b4")};
  if (r.open_model()) dist.push_back(distribution(r.uncorrected_latency, "uncorrected", "#aaaaaa"));
  html += chart("Latency by percentile", dist, "percentile", fmt_ms, fmt_percentile);
  html += "</body></html>\n";
  return html;
}

}  // namespace watchpost::exporters
