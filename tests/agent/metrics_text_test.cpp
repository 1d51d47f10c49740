// The agent's per-target series are rendered straight from their cells (no MetricFamily per
// scrape): that text must be what prometheus-cpp's families of the same series give through the
// shared writer, and the cells must count as prometheus-cpp's own metrics do.
#include <prometheus/histogram.h>

#include <catch2/catch.hpp>
#include <limits>

#include "watchpost/agent/metrics.hpp"
#include "watchpost/exporters/prometheus_text.hpp"

using namespace watchpost;
using namespace watchpost::agent;

namespace {

const char* config_text = R"(
labels: { env: prod, zone: "a\"b\\c" }
targets:
  - { name: plain, url: 'http://127.0.0.1:1/' }
  - { name: all, url: 'https://127.0.0.1:1/', phase_histograms: all, duration_buckets: [0.1, 1],
      labels: { app: x } }
  - { name: none, url: 'http://127.0.0.1:1/', phase_histograms: none }
  - name: slo
    url: 'http://127.0.0.1:1/'
    slo: { availability: 99%, latency: { p95: 500ms }, window: 7d,
           burn_alerts: [ { long: 1h, short: 5m, factor: 14.4 }, { long: 6h, short: 5m, factor: 6 } ] }
    on_breach: [ { webhook: 'http://127.0.0.1:1/hook' } ]
)";

std::string via_families(const agent_metrics& m) {
  std::string out;
  exporters::append_prometheus_text(out, m.collect());
  return out;
}

}  // namespace

TEST_CASE("the agent's metrics text is the text of its prometheus-cpp families") {
  const agent_config config = parse_config(config_text, "metrics.yaml");
  agent_metrics metrics;
  std::vector<std::unique_ptr<target_metrics>> targets;
  for (const auto& t : config.targets) targets.push_back(metrics.add_target(t));
  CHECK(metrics.serialize() == via_families(metrics));

  target_metrics& plain = *targets[0];
  plain.checks[0].success.set(1);
  metrics.count_result(plain, 0, probes::failure_kind::none);
  metrics.count_result(plain, 0, probes::failure_kind::connect);
  metrics.observe_phase(plain, probe_phases.size() - 1, 0.042);
  metrics.observe_phase(plain, 1, 0.01);  // phase_histograms: total keeps no connect histogram
  metrics.count_skipped(plain);
  target_metrics& all = *targets[1];
  for (double s : {0.05, 0.1, 3.0}) metrics.observe_phase(all, 1, s);  // connect, from now on shown
  metrics.set_cert_expiry(all, 1.7e9);
  metrics.count_delivery(all, delivery_result::failed);  // a target without hooks: shown once it happened
  target_metrics& slo = *targets[3];
  for (std::size_t j = 0; j < 4; ++j) slo.slos[1].burn[j].set(static_cast<double>(j) + 0.5);
  slo.slos[0].breached.set(1);
  metrics.set_budget_remaining(slo, 0, 0.25);
  metrics.set_budget_remaining(slo, 1, std::nullopt);
  slo.uptime_24h.set(0.999);

  const std::string text = metrics.serialize();
  CHECK(text == via_families(metrics));
  INFO(text);
  CHECK(
      text.find(
          R"(watchpost_probe_total{check="probe",env="prod",result="connect",target="plain",zone="a\"b\\c"} 1)") !=
      std::string::npos);
  CHECK(text.find(R"(watchpost_agent_probes_skipped_total{env="prod",target="plain",zone="a\"b\\c"} 1)") !=
        std::string::npos);
  CHECK(text.find(R"(phase="connect",target="plain")") == std::string::npos);
  CHECK(
      text.find(
          R"(watchpost_probe_duration_seconds_count{app="x",env="prod",phase="connect",target="all",zone="a\"b\\c"} 3)") !=
      std::string::npos);
  CHECK(text.find(R"(phase="resolve")") == std::string::npos);
  CHECK(
      text.find(
          R"(watchpost_tls_cert_expiry_timestamp_seconds{app="x",env="prod",target="all",zone="a\"b\\c"} 1700000000)") !=
      std::string::npos);
  CHECK(
      text.find(
          R"(watchpost_webhook_deliveries_total{app="x",env="prod",result="failed",target="all",zone="a\"b\\c"} 1)") !=
      std::string::npos);
  // 5m is the short window of both alerts: one series, the later reading.
  CHECK(
      text.find(
          R"(watchpost_slo_burn_rate{env="prod",slo="latency_p95",target="slo",window="5m",zone="a\"b\\c"} 3.5)") !=
      std::string::npos);
  CHECK(
      text.find(
          R"(watchpost_slo_error_budget_remaining{env="prod",slo="availability",target="slo",zone="a\"b\\c"} 0.25)") !=
      std::string::npos);
  CHECK(text.find(R"(slo="latency_p95",target="slo",zone="a\"b\\c"} NaN)") == std::string::npos);

  metrics.remove_target(*targets[3]);
  CHECK(metrics.serialize().find("target=\"slo\"") == std::string::npos);
  CHECK(metrics.serialize() == via_families(metrics));
}

TEST_CASE("a duration histogram counts into the buckets prometheus::Histogram would") {
  const std::vector<double> bounds{0.005, 0.1, 1, 10};
  duration_histogram ours(bounds);
  prometheus::Histogram theirs(bounds);
  for (double s : {0.0, 0.005, 0.0050001, 0.1, 0.5, 1.0, 9.99, 10.0, 11.0, 1e9}) {
    ours.observe(s);
    theirs.Observe(s);
  }
  const auto reference = theirs.Collect().histogram;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += ours.bucket(i);
    CHECK(cumulative == reference.bucket.at(i).cumulative_count);
  }
  CHECK(ours.sum() == Approx(reference.sample_sum));
}
