#pragma once
// The Prometheus text exposition format 0.0.4 of prometheus-cpp's collected families, appended to
// one string. Replaces prometheus::TextSerializer on the agent's /metrics: that one goes through an
// ostream per value and took 0.8 s for 10,000 targets. Lines and their order are the same;
// numbers are written by std::to_chars (integral values as integers, others in the shortest form
// that reads back exactly), NaN is spelled "NaN", and HELP text is escaped as the format requires.
//
// The pieces it writes with are public too: a collector that keeps its values in its own storage
// (the agent's per-target series) renders straight through them, with no MetricFamily per scrape.
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace watchpost::exporters {

// Appends to `out`, which the caller may have reserved (the agent reserves its last render's size).
void append_prometheus_text(std::string& out, const std::vector<prometheus::MetricFamily>& families);

// # HELP (when help is not empty) and # TYPE of one family.
void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          prometheus::MetricType type);
// Appends name="value" (value escaped) to a label block, after a comma when the block has labels.
void append_label(std::string& block, std::string_view name, std::string_view value);

// The lines of one series: `labels` is its label block (append_label), written into every line.
class series_text {
 public:
  series_text(std::string& out, std::string_view name, std::string_view labels, std::int64_t timestamp_ms = 0)
      : out_(out), name_(name), labels_(labels), timestamp_ms_(timestamp_ms) {}
  // name<suffix>{labels[,extra_name="extra_value"]} v
  void value(double v, std::string_view suffix = {}, std::string_view extra_name = {},
             double extra_value = 0);
  void count_line(std::uint64_t v, std::string_view suffix, std::string_view extra_name = {},
                  double extra_value = 0);
  // A histogram's name_bucket{...,le="upper_bound"} line.
  void bucket(double upper_bound, std::uint64_t cumulative) {
    count_line(cumulative, "_bucket", "le", upper_bound);
  }

 private:
  void head(std::string_view suffix, std::string_view extra_name, double extra_value);
  void tail();
  std::string& out_;
  std::string_view name_;
  std::string_view labels_;
  std::int64_t timestamp_ms_;
};

}  // namespace watchpost::exporters
