// A registry shaped like the agent's default per target (success, probe_total{ok}, uptime 1h and
// 24h, one 11-bucket duration histogram: 18 series), N targets; times Collect() and both text
// renderers on it, and the agent's own render (agent_metrics::serialize: the same series from its
// cells, no Collect()) of N default targets, best of ROUNDS.
//   usage: metrics_text_bench [N=10000] [ROUNDS=5]
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "watchpost/agent/config.hpp"
#include "watchpost/agent/metrics.hpp"
#include "watchpost/exporters/prometheus_text.hpp"

namespace pm = prometheus;
using clock_type = std::chrono::steady_clock;

namespace {
double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto registry = std::make_shared<pm::Registry>();
  auto& success = pm::BuildGauge().Name("watchpost_probe_success").Help("h").Register(*registry);
  auto& total = pm::BuildCounter().Name("watchpost_probe_total").Help("h").Register(*registry);
  auto& uptime = pm::BuildGauge().Name("watchpost_uptime_ratio").Help("h").Register(*registry);
  auto& duration =
      pm::BuildHistogram().Name("watchpost_probe_duration_seconds").Help("h").Register(*registry);
  const pm::Histogram::BucketBoundaries buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  for (int i = 0; i < n; ++i) {
    const std::string target = "target-" + std::to_string(i);
    success.Add({{"target", target}, {"check", "probe"}}).Set(1);
    total.Add({{"target", target}, {"check", "probe"}, {"result", "ok"}}).Increment(1234);
    uptime.Add({{"target", target}, {"window", "1h"}}).Set(0.9993);
    uptime.Add({{"target", target}, {"window", "24h"}}).Set(1);
    auto& h = duration.Add({{"target", target}, {"phase", "total"}}, buckets);
    for (double v : {0.0004, 0.003, 0.02, 0.2}) h.Observe(v);
  }
  double collect = 1e9, theirs = 1e9, ours = 1e9;
  std::size_t bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = clock_type::now();
    const auto families = registry->Collect();
    collect = std::min(collect, ms_since(t0));
    t0 = clock_type::now();
    const std::string a = pm::TextSerializer().Serialize(families);
    theirs = std::min(theirs, ms_since(t0));
    t0 = clock_type::now();
    std::string b;
    b.reserve(bytes + bytes / 8);
    watchpost::exporters::append_prometheus_text(b, families);
    ours = std::min(ours, ms_since(t0));
    bytes = b.size();
  }
  std::string yaml = "targets:\n";
  for (int i = 0; i < n; ++i)
    yaml += "  - { name: target-" + std::to_string(i) + ", url: 'http://127.0.0.1:1/' }\n";
  const auto config = watchpost::agent::parse_config(yaml, "bench.yaml");
  watchpost::agent::agent_metrics agent;
  std::vector<std::unique_ptr<watchpost::agent::target_metrics>> targets;
  for (const auto& t : config.targets) {
    auto& m = *targets.emplace_back(agent.add_target(t));
    m.checks[0].success.set(1);
    for (double v : {0.0004, 0.003, 0.02, 0.2}) {
      agent.count_result(m, 0, watchpost::probes::failure_kind::none);
      agent.observe_phase(m, watchpost::agent::probe_phases.size() - 1, v);
    }
  }
  double agent_ms = 1e9;
  std::size_t agent_bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = clock_type::now();
    agent_bytes = agent.serialize().size();
    agent_ms = std::min(agent_ms, ms_since(t0));
  }
  std::printf(
      "targets=%d bytes=%zu collect_ms=%.1f text_serializer_ms=%.1f prometheus_text_ms=%.1f agent_bytes=%zu "
      "agent_serialize_ms=%.1f\n",
      n, bytes, collect, theirs, ours, agent_bytes, agent_ms);
}
