#pragma once
// The Prometheus text exposition format 0.0.4 of prometheus-cpp's collected families, appended to
// one string. Replaces prometheus::TextSerializer on the agent's /metrics: that one goes through an
// ostream per value and took 0.8 s for 10,000 targets. Lines and their order are the same;
// numbers are written by std::to_chars (integral values as integers, others in the shortest form
// that reads back exactly), NaN is spelled "NaN", and HELP text is escaped as the format requires.
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace watchpost::exporters {

// Appends to `out`, which the caller may have reserved (the agent reserves its last render's size).
void append_prometheus_text(std::string& out, const std::vector<prometheus::MetricFamily>& families);

}  // namespace watchpost::exporters
