#include "target_families.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "watchpost/exporters/prometheus_text.hpp"

namespace watchpost::agent::detail {

namespace pm = prometheus;

namespace {

struct label {
  std::string_view name, value;
};
using label_list = std::initializer_list<label>;

// A series' labels in name order, as prometheus-cpp's std::map<name, value> kept them: the
// target's labels: with target=<name> and the series' own (check, result, phase...) merged in.
template <class F>
void for_each_label(const target_config& c, label_list extra, F&& f) {
  std::array<label, 3> own{};  // target and at most two of the series' own, sorted by insertion
  std::size_t n = 0;
  for (const label& l : {label{"target", c.name}, extra.size() > 0 ? extra.begin()[0] : label{},
                         extra.size() > 1 ? extra.begin()[1] : label{}}) {
    if (l.name.empty()) continue;
    std::size_t at = n++;
    for (; at > 0 && l.name < own[at - 1].name; --at) own[at] = own[at - 1];
    own[at] = l;
  }
  auto user = c.labels.begin();
  for (std::size_t i = 0; i < n || user != c.labels.end();) {
    if (i == n || (user != c.labels.end() && user->first < own[i].name)) {
      f(user->first, user->second);
      ++user;
    } else {
      f(own[i].name, own[i].value);
      ++i;
    }
  }
}

// One consistent reading of a histogram: cumulative bucket counts, the count is the last.
struct histogram_reading {
  std::array<std::uint64_t, max_duration_buckets + 1> cumulative{};
  std::size_t buckets = 0;  // bounds + the +Inf bucket
  double sum = 0;
  std::uint64_t count() const { return buckets ? cumulative[buckets - 1] : 0; }
};

histogram_reading read(const duration_histogram& h) {
  histogram_reading r;
  r.buckets = std::min(h.bounds().size() + 1, r.cumulative.size());
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < r.buckets; ++i) r.cumulative[i] = running += h.bucket(i);
  r.sum = h.sum();
  return r;
}

std::string_view check_name(const target_metrics& m, std::size_t check) {
  return m.config.suite ? std::string_view(m.config.suite->checks[check].name) : "probe";
}

class text_sink {
 public:
  explicit text_sink(std::string& out) : out_(out) {}
  void family(std::string_view name, std::string_view help, pm::MetricType type) {
    name_ = name;
    help_ = help;
    type_ = type;
    header_due_ = true;  // written before the family's first series: an empty family is left out
  }
  void sample(const target_metrics& m, label_list extra, double v) { series(m, extra).value(v); }
  void histogram(const target_metrics& m, label_list extra, const duration_histogram& h) {
    const histogram_reading r = read(h);
    auto w = series(m, extra);
    w.count_line(r.count(), "_count");
    w.value(r.sum, "_sum");
    for (std::size_t i = 0; i + 1 < r.buckets; ++i) w.bucket(h.bounds()[i], r.cumulative[i]);
    w.bucket(std::numeric_limits<double>::infinity(), r.count());
  }

 private:
  exporters::series_text series(const target_metrics& m, label_list extra) {
    if (header_due_) exporters::append_family_header(out_, name_, help_, type_);
    header_due_ = false;
    labels_.clear();
    for_each_label(m.config, extra, [this](std::string_view n, std::string_view v) {
      exporters::append_label(labels_, n, v);
    });
    return exporters::series_text(out_, name_, labels_);
  }
  std::string& out_;
  std::string labels_;  // reused: no allocation per series
  std::string_view name_, help_;
  pm::MetricType type_ = pm::MetricType::Untyped;
  bool header_due_ = false;
};

class family_sink {
 public:
  void family(std::string_view name, std::string_view help, pm::MetricType type) {
    drop_empty();
    families_.push_back({std::string(name), std::string(help), type, {}});
  }
  void sample(const target_metrics& m, label_list extra, double v) {
    pm::ClientMetric& c = series(m, extra);
    (families_.back().type == pm::MetricType::Counter ? c.counter.value : c.gauge.value) = v;
  }
  void histogram(const target_metrics& m, label_list extra, const duration_histogram& h) {
    const histogram_reading r = read(h);
    pm::ClientMetric& c = series(m, extra);
    c.histogram.sample_count = r.count();
    c.histogram.sample_sum = r.sum;
    for (std::size_t i = 0; i < r.buckets; ++i)
      c.histogram.bucket.push_back(
          {r.cumulative[i], i + 1 < r.buckets ? h.bounds()[i] : std::numeric_limits<double>::infinity()});
  }
  std::vector<pm::MetricFamily> take() {
    drop_empty();
    return std::move(families_);
  }

 private:
  pm::ClientMetric& series(const target_metrics& m, label_list extra) {
    pm::ClientMetric& c = families_.back().metric.emplace_back();
    for_each_label(m.config, extra, [&c](std::string_view n, std::string_view v) {
      c.label.push_back({std::string(n), std::string(v)});
    });
    return c;
  }
  void drop_empty() {
    if (!families_.empty() && families_.back().metric.empty()) families_.pop_back();
  }
  std::vector<pm::MetricFamily> families_;
};

}  // namespace

template <class Sink>
void target_families::visit(Sink& sink) const {
  using type = pm::MetricType;
  std::lock_guard lock(mutex_);
  sink.family("watchpost_probe_total", "Probes by result", type::Counter);
  for (const target_metrics* m : targets_)
    for (std::size_t c = 0; c < m->checks.size(); ++c)
      for (std::size_t r = 0; r < probe_results.size(); ++r)
        if (const auto n = m->checks[c].total[r].value(); r == 0 || n > 0)
          sink.sample(*m, {{"check", check_name(*m, c)}, {"result", probe_results[r]}},
                      static_cast<double>(n));
  sink.family("watchpost_webhook_deliveries_total",
              "Webhook deliveries by result: delivered, failed (attempt, retried), dead_letter, expired",
              type::Counter);
  for (const target_metrics* m : targets_)
    for (std::size_t r = 0; r < delivery_results.size(); ++r)
      if (const auto n = m->webhook[r].value(); n > 0 || !m->config.on_breach.empty())
        sink.sample(*m, {{"result", delivery_results[r]}}, static_cast<double>(n));
  sink.family("watchpost_agent_probes_skipped_total",
              "Ticks skipped because the previous probe was still running", type::Counter);
  for (const target_metrics* m : targets_)
    if (const auto n = m->skipped.value()) sink.sample(*m, {}, static_cast<double>(n));

  sink.family("watchpost_probe_success", "1 if the last probe of the check succeeded", type::Gauge);
  for (const target_metrics* m : targets_)
    for (std::size_t c = 0; c < m->checks.size(); ++c)
      sink.sample(*m, {{"check", check_name(*m, c)}}, m->checks[c].success.value());
  sink.family("watchpost_uptime_ratio", "Fraction of successful probes over the window", type::Gauge);
  for (const target_metrics* m : targets_) {
    sink.sample(*m, {{"window", "1h"}}, m->uptime_1h.value());
    sink.sample(*m, {{"window", "24h"}}, m->uptime_24h.value());
  }
  sink.family("watchpost_slo_burn_rate", "Error budget burn rate over the window", type::Gauge);
  std::vector<std::string> windows;
  for (const target_metrics* m : targets_) {
    if (m->slos.empty()) continue;
    windows.clear();
    for (const auto& a : m->config.slo.burn_alerts)
      for (nanoseconds w : {a.long_window, a.short_window}) windows.push_back(window_label(w));
    for (const slo_metrics& s : m->slos)
      for (std::size_t j = 0; j < windows.size(); ++j)
        if (std::find(windows.begin() + static_cast<std::ptrdiff_t>(j) + 1, windows.end(), windows[j]) ==
            windows.end())  // the last reading of a window label is its series
          sink.sample(*m, {{"slo", s.name}, {"window", windows[j]}}, s.burn[j].value());
  }
  sink.family("watchpost_slo_breached", "1 while a burn-rate alert of the SLO holds", type::Gauge);
  for (const target_metrics* m : targets_)
    for (const slo_metrics& s : m->slos) sink.sample(*m, {{"slo", s.name}}, s.breached.value());
  sink.family("watchpost_slo_error_budget_remaining",
              "Fraction of the error budget left over the SLO window (negative when overspent)", type::Gauge);
  for (const target_metrics* m : targets_)
    for (const slo_metrics& s : m->slos)
      if (const double v = s.budget_remaining.value(); !std::isnan(v)) sink.sample(*m, {{"slo", s.name}}, v);
  sink.family("watchpost_tls_cert_expiry_timestamp_seconds", "notAfter of the peer certificate (Unix time)",
              type::Gauge);
  for (const target_metrics* m : targets_)
    if (const double v = m->cert_expiry.value(); !std::isnan(v)) sink.sample(*m, {}, v);

  sink.family("watchpost_probe_duration_seconds", "Probe duration by phase", type::Histogram);
  for (const target_metrics* m : targets_)
    for (std::size_t p = 0; p < probe_phases.size(); ++p) {
      const duration_histogram* h = m->duration[p].get();
      // Phases other than total are shown from their first observation.
      if (h && (p + 1 == probe_phases.size() || read(*h).count() > 0))
        sink.histogram(*m, {{"phase", probe_phases[p]}}, *h);
    }
}

void target_families::add(const target_metrics& metrics) {
  std::lock_guard lock(mutex_);
  targets_.push_back(&metrics);
}

void target_families::remove(const target_metrics& metrics) {
  std::lock_guard lock(mutex_);
  const auto it = std::find(targets_.begin(), targets_.end(), &metrics);
  if (it == targets_.end()) return;
  *it = targets_.back();  // the order of series within a family carries no meaning
  targets_.pop_back();
}

std::vector<pm::MetricFamily> target_families::Collect() const {
  family_sink sink;
  visit(sink);
  return sink.take();
}

void target_families::append_text(std::string& out) const {
  text_sink sink(out);
  visit(sink);
}

}  // namespace watchpost::agent::detail
