// exporters/prometheus_text against prometheus-cpp's own TextSerializer on one registry with every
// metric type: the same lines in the same order, the same values (prometheus-cpp rounds to 16
// digits; ours read back exactly), and the spellings the format wants where the two differ (NaN,
// escaped HELP).
#include "watchpost/exporters/prometheus_text.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace pm = prometheus;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A sample line split at its value: "name{labels}", value text, and the timestamp text if any.
struct sample {
  std::string series, value, timestamp;
};
sample split(const std::string& line) {
  const auto close = line.rfind('}');
  const auto space = line.find(' ', close == std::string::npos ? 0 : close);
  REQUIRE(space != std::string::npos);
  sample s{line.substr(0, space), line.substr(space + 1), ""};
  if (const auto ts = s.value.find(' '); ts != std::string::npos) {
    s.timestamp = s.value.substr(ts + 1);
    s.value.resize(ts);
  }
  return s;
}

double parse(const std::string& text) {
  if (text == "NaN" || text == "Nan") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf") return inf;
  if (text == "-Inf") return -inf;
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  REQUIRE(ec == std::errc{});
  REQUIRE(end == text.data() + text.size());
  return v;
}

std::string ours(const std::vector<pm::MetricFamily>& families) {
  std::string out;
  watchpost::exporters::append_prometheus_text(out, families);
  return out;
}

const double gauge_values[] = {0.1,
                               -2.5,
                               1700000000.0,
                               0.30000000000000004,
                               1e-300,
                               1e300,
                               2.5e-5,
                               -1e-12,
                               1.0e17,
                               9007199254740994.0,
                               inf,
                               -inf,
                               std::numeric_limits<double>::quiet_NaN()};

// Every metric type, labels needing escapes, values at the edges of what a double spells.
std::shared_ptr<pm::Registry> every_type() {
  auto registry = std::make_shared<pm::Registry>();
  auto& counters = pm::BuildCounter().Name("c_total").Help("Counts things").Register(*registry);
  counters.Add({{"path", "C:\\dir"}, {"quote", "say \"hi\""}}).Increment(3);
  counters.Add({{"multi", "line one\nline two"}}).Increment(1e6);
  counters.Add({}).Increment(123456789012.0);
  auto& gauges = pm::BuildGauge().Name("g").Help("Gauges").Register(*registry);
  for (std::size_t i = 0; i < std::size(gauge_values); ++i)
    gauges.Add({{"i", std::to_string(i)}}).Set(gauge_values[i]);
  auto& histograms = pm::BuildHistogram().Name("h_seconds").Help("Durations").Register(*registry);
  auto& h =
      histograms.Add({{"target", "t\\1"}}, pm::Histogram::BucketBoundaries{1e-6, 0.005, 0.25, 1, 2.5, 1e9});
  for (double v : {1e-7, 0.003, 0.2, 0.2, 3.0, 5e9}) h.Observe(v);
  histograms.Add({}, pm::Histogram::BucketBoundaries{0.5});  // no observation, no labels
  auto& summaries = pm::BuildSummary().Name("s").Help("Quantiles").Register(*registry);
  auto& s = summaries.Add({{"k", "v"}}, pm::Summary::Quantiles{{0.5, 0.05}, {0.99, 0.001}});
  for (int i = 1; i <= 100; ++i) s.Observe(i / 100.0);
  summaries.Add({{"k", "empty"}}, pm::Summary::Quantiles{{0.5, 0.05}});  // NaN quantiles
  return registry;
}

}  // namespace

TEST_CASE("the text writer renders what prometheus-cpp's TextSerializer renders, value for value") {
  const auto families = every_type()->Collect();
  const auto mine = lines_of(ours(families));
  const auto theirs = lines_of(pm::TextSerializer().Serialize(families));
  REQUIRE(mine.size() == theirs.size());
  std::size_t samples = 0;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    INFO("ours:   " << mine[i]);
    INFO("theirs: " << theirs[i]);
    if (mine[i].starts_with("#")) {
      CHECK(mine[i] == theirs[i]);
      continue;
    }
    const sample a = split(mine[i]), b = split(theirs[i]);
    CHECK(a.series == b.series);
    CHECK(a.timestamp == b.timestamp);
    const double x = parse(a.value), y = parse(b.value);
    if (std::isnan(y)) {
      CHECK(a.value == "NaN");
    } else if (std::isinf(y) || y == 0) {
      CHECK(x == y);
    } else {
      CHECK(std::fabs(x - y) <= std::fabs(y) * 1e-15);  // theirs: 16 significant digits
    }
    ++samples;
  }
  // 3 counters, 13 gauges, 6+3 histogram bucket lines + 2x(count, sum), summaries 2+2 and 2+1.
  CHECK(samples == 3 + 13 + (2 + 7) + (2 + 2) + (2 + 2) + (2 + 1));
}

TEST_CASE(
    "the text writer escapes label values and HELP, spells +Inf, -Inf and NaN, and reads back exactly") {
  const std::string text = ours(every_type()->Collect());
  INFO(text);
  for (const char* line : {
           "c_total{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\"} 3\n",
           "c_total{multi=\"line one\\nline two\"} 1000000\n",
           "c_total 123456789012\n",
           "g{i=\"2\"} 1700000000\n",
           "g{i=\"3\"} 0.30000000000000004\n",  // theirs: 0.3
           "g{i=\"4\"} 1e-300\n",
           "g{i=\"5\"} 1e+300\n",
           "g{i=\"10\"} +Inf\n",
           "g{i=\"11\"} -Inf\n",
           "g{i=\"12\"} NaN\n",
           "h_seconds_bucket{target=\"t\\\\1\",le=\"1e-06\"} 1\n",
           "h_seconds_bucket{target=\"t\\\\1\",le=\"1000000000\"} 5\n",
           "h_seconds_bucket{target=\"t\\\\1\",le=\"+Inf\"} 6\n",
           "h_seconds_bucket{le=\"+Inf\"} 0\n",
           "s{k=\"empty\",quantile=\"0.5\"} NaN\n",
       }) {
    INFO(line);
    CHECK(text.find(line) != std::string::npos);
  }

  // Every gauge reads back as the very double that was set (g{i="<index>"}).
  std::size_t gauges = 0;
  for (const auto& line : lines_of(text)) {
    if (!line.starts_with("g{i=\"")) continue;
    INFO(line);
    const double expected = gauge_values[std::stoul(line.substr(5))];
    const double v = parse(split(line).value);
    CHECK((v == expected || (std::isnan(v) && std::isnan(expected))));
    ++gauges;
  }
  CHECK(gauges == std::size(gauge_values));

  pm::MetricFamily untyped{"u", "a \\ backslash\nand a new line", pm::MetricType::Untyped, {}};
  pm::ClientMetric m;
  m.label = {{"a", "b"}};
  m.untyped.value = 0.5;
  m.timestamp_ms = 1700000000123;
  untyped.metric.push_back(m);
  CHECK(ours({untyped}) ==
        "# HELP u a \\\\ backslash\\nand a new line\n# TYPE u untyped\nu{a=\"b\"} 0.5 1700000000123\n");
}
