#pragma once
// Shared by the unit tests of the SLO evaluator and the event pipeline: a target whose SLO
// breaches within a second, and a driver that probes it every 100 ms of simulated time.
#include <chrono>
#include <string>
#include <vector>

#include "watchpost/agent/config.hpp"
#include "watchpost/agent/slo.hpp"

namespace watchpost::agent_test {

// "api": availability 90% over burn windows 4s/1s, factor 2, min_requests 5; `on_breach` is the
// YAML of its on_breach entries (indented by six spaces), or empty.
inline agent::target_config fast_slo_target(const std::string& on_breach = "") {
  return agent::parse_config(R"(
targets:
  - name: api
    url: http://127.0.0.1:1/
    slo:
      availability: 90%
      window: 20s
      burn_alerts: [ { long: 4s, short: 1s, factor: 2 } ]
      min_requests: 5
)" + (on_breach.empty() ? std::string() : "    on_breach:\n" + on_breach),
                             "test.yaml")
      .targets.at(0);
}

// Far from the epoch, so slice indexes are realistic.
inline const agent::wall_time test_epoch = agent::wall_time{} + std::chrono::hours(24 * 365 * 50);

// Records one probe every 100 ms for `span` (advancing `now`), evaluating after each.
inline std::vector<agent::slo_decision> run(const agent::target_config& t, agent::target_window_state& st,
                                            agent::wall_time& now, nanoseconds span, bool ok) {
  std::vector<agent::slo_decision> out;
  for (nanoseconds e{0}; e < span; e += std::chrono::milliseconds(100)) {
    now += std::chrono::milliseconds(100);
    st.record(now, ok, false);
    for (auto& d : agent::evaluate(t, st, now).decisions) out.push_back(d);
  }
  return out;
}

}  // namespace watchpost::agent_test
