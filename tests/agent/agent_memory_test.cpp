// The agent's memory per target (issue 11: <= 100 MB at 10,000 targets with an SLO on 10% of
// them), measured on the real binary: the RSS growth from 500 to 2,500 probed targets. 6.5 MB per
// 1,000 targets when written; 10.8 MB before the per-target series left prometheus-cpp's objects
// and the config parse stopped leaving the heap fragmented. Sanitizers multiply memory, so their
// builds skip it.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "agent_fixture.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define WATCHPOST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WATCHPOST_SANITIZED 1
#endif
#endif

#ifndef WATCHPOST_SANITIZED

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;

namespace {

// RSS (KiB) of an agent probing n targets every 2 s, each probed at least twice by then.
long agent_rss_kib(const testing::test_target& target, int n) {
  const auto dir = temp_dir("memory-" + std::to_string(n));
  const std::string slo = ", slo: { availability: 99.9%, latency: { p95: 500ms }, window: 30d }";
  std::string config = "listen: 127.0.0.1:0\nstate_dir: " + dir + "/state\nthreads: 2\ntargets:\n";
  for (int i = 0; i < n; ++i)
    config += "  - { name: t" + std::to_string(i) + ", url: '" + target.http_url("/health") +
              "', interval: 2s, timeout: 1s" + (i % 10 == 0 ? slo : "") + " }\n";
  write_text(dir + "/agent.yaml", config);
  running_agent agent(dir + "/agent.yaml");
  std::this_thread::sleep_for(5s);
  return testing::proc_status_kib(agent.process().pid(), "VmRSS");
}

}  // namespace

TEST_CASE("agent RSS grows by at most 9 MB per 1,000 targets (SLO on 10%)") {
  testing::test_target target;
  const long small = agent_rss_kib(target, 500);
  const long large = agent_rss_kib(target, 2500);
  const long per_thousand = (large - small) * 1000 / 2000;
  INFO("RSS " << small << " KiB at 500 targets, " << large << " KiB at 2,500: " << per_thousand
              << " KiB per 1,000 targets");
  CHECK(per_thousand <= 9 * 1024);
}

#endif
