// `watchpost check-config` on load plans and agent configs: the real binary, no traffic.
// (Suites are covered beside the smoke CLI tests.)
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "process.hpp"

using watchpost::testing::run_watchpost;
namespace fs = std::filesystem;

namespace {

std::string write_config(const std::string& name, const std::string& text) {
  static const fs::path dir = [] {
    auto d = fs::temp_directory_path() / ("watchpost-check-config-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

// Runs check-config on text; the exit code and the one stream that should carry the answer.
std::pair<int, std::string> check_config(const std::string& name, const std::string& text) {
  const auto r = run_watchpost({"check-config", write_config(name, text)});
  return {r.exit_code, r.exit_code == 0 ? r.out : r.err};
}

}  // namespace

TEST_CASE("check-config accepts a load plan and an agent config, naming the kind") {
  auto [code, out] = check_config("plan.yaml", R"(url: http://127.0.0.1:8080
connections: 8
duration: 5s
thresholds: [ "p99<250ms", "error_rate<1%,window=2s" ]
requests:
  - { name: home, path: /, weight: 3 }
  - { name: health, path: /health, weight: 1, expect: { status: 200 } }
)");
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("ok (load plan: 2 requests in the mix, 2 thresholds)"));

  std::tie(code, out) = check_config("url-only-plan.yaml", "url: http://127.0.0.1:8080/health\nrate: 100\n");
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("ok (load plan: 1 request in the mix, 0 thresholds)"));

  std::tie(code, out) = check_config("agent.yaml", R"(listen: 127.0.0.1:9470
state_dir: /tmp/watchpost-check-config-state
targets:
  - name: api
    url: http://127.0.0.1:8080/health
    interval: 10s
    slo: { availability: 99.9%, window: 1h }
)");
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("ok (agent config: 1 targets, listen 127.0.0.1:9470)"));
}

TEST_CASE("check-config rejects broken plans and agent configs with file:line:col, one line") {
  const std::pair<const char*, const char*> cases[] = {
      {"plan-bad-duration.yaml", "url: http://127.0.0.1:8080\nduration: soon\n"},
      {"plan-unknown-key.yaml", "url: http://127.0.0.1:8080\nconections: 8\n"},
      {"plan-bad-threshold.yaml", "url: http://127.0.0.1:8080\nthresholds: [ \"p99 about 3\" ]\n"},
      {"plan-bad-weight.yaml", "requests:\n  - { path: /, weight: heavy }\n"},
      {"agent-bad-interval.yaml", "targets:\n  - name: a\n    url: http://127.0.0.1/\n    interval: 5\n"},
      {"agent-bad-url.yaml", "targets:\n  - name: a\n    url: gopher://127.0.0.1/\n"},
      {"agent-unknown-key.yaml",
       "targets:\n  - name: a\n    url: http://127.0.0.1/\n    slo: { availabilty: 99% }\n"},
  };
  for (const auto& [name, text] : cases) {
    INFO(name);
    const auto [code, err] = check_config(name, text);
    CHECK(code == 2);
    CHECK_THAT(err, Catch::Matches(".*" + std::string(name) + ":[0-9]+:[0-9]+: .*\n"));
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  }
}

TEST_CASE("check-config names every kind it knows when it cannot tell the kind") {
  const auto [code, err] = check_config("mystery.yaml", "hello: world\n");
  CHECK(code == 2);
  for (const char* kind : {"smoke suite", "agent config", "load plan"})
    CHECK_THAT(err, Catch::Contains(kind));
}

TEST_CASE("every example file in examples/ passes check-config") {
  const std::map<std::string, std::string> env = {{"ROLLBACK_HMAC", "example-secret"},
                                                  {"TOKEN", "example-token"}};
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(watchpost::testing::source_dir()) / "examples")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path());
    const auto r = run_watchpost({"check-config", entry.path().string(), "--var", "RUN_ID=1"}, env);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains(": ok ("));
    ++checked;
  }
  CHECK(checked >= 3);
}
