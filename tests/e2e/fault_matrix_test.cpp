// The fault matrix of issue 9: every hostile behaviour of the test target (fault_table.hpp)
// against probe, smoke, load and the agent, all real processes on loopback. Each cell must report
// the row's kind, end within its deadline and exit normally (0 for ok, 1 for a failure, never a
// signal). Each case prints its column ("matrix MODE ROW: ...") for the closing note.
#include <signal.h>

#include <catch2/catch.hpp>
#include <iostream>
#include <thread>

#include "fault_table.hpp"
#include "matrix_support.hpp"

using namespace watchpost;
using namespace watchpost::e2e;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// Start-up of the binary and scheduling on a loaded 2-core machine, on top of every deadline.
constexpr milliseconds margin = 2s;
constexpr auto request_timeout = 3s;  // probe --timeout and the smoke suite's defaults.timeout
constexpr auto load_duration = 2s;
constexpr auto load_timeout = 1s;
constexpr auto agent_timeout = 2s;
// The idle-closing server drops a keep-alive connection this long after a response; every mode
// below leaves its connection idle for longer before reusing it.
constexpr std::string_view idle_timeout = "200ms";

// The two test targets of the table, each serving plain HTTP and HTTPS. The rows are HTTP/1.1's
// hostile behaviours (over h2 the target answers /hostile/* with RST_STREAM HTTP_1_1_REQUIRED), so
// the targets offer no h2 by ALPN and every mode's default (auto) speaks HTTP/1.1 to them.
struct servers {
  testing::test_target plain{{"--no-h2"}};
  testing::test_target idle_closing{{"--idle-timeout", std::string(idle_timeout), "--no-h2"}};

  testing::test_target& of(const fault_row& row) { return row.on == server::plain ? plain : idle_closing; }
  std::string base(const fault_row& row) { return row.https ? of(row).https_url("") : of(row).http_url(""); }
  std::string url(const fault_row& row) { return base(row) + std::string(row.path); }
  // --ca-file for https rows; nothing for http.
  std::vector<std::string> trust(const fault_row& row) {
    if (!row.https) return {};
    return {"--ca-file", of(row).cert_file()};
  }
};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void check_cell(std::string_view mode, const fault_row& row, std::string_view expected,
                const observation& seen, milliseconds deadline) {
  std::cout << "matrix " << mode << " " << row.name << ": " << seen.reported << " (exit " << seen.exit_code
            << ", " << seen.wall.count() << " ms)" << std::endl;
  INFO(mode << " / " << row.name << " (" << (row.https ? "https " : "http ") << row.path << ")\n"
            << seen.detail);
  CHECK(seen.reported == expected);
  CHECK(seen.exit_code == (expected == "ok" ? 0 : 1));
  CHECK(seen.wall <= deadline + margin);
}

// One check of the row's request; for an idle-closing row, the check runs again after a pause
// longer than the idle timeout (a slow request on a second client: checks with another timeout
// use another connection), so the last check reuses the connection the server closed.
std::string smoke_suite(servers& s, const fault_row& row, std::size_t& checks) {
  const std::string request = "    request: \"GET " + std::string(row.path) + "\"\n";
  std::string yaml = "name: fault matrix " + std::string(row.name) + "\nbase_url: \"" + s.base(row) +
                     "\"\ndefaults: { timeout: " + std::to_string(request_timeout.count()) + "s }\nchecks:\n";
  yaml += "  - name: " + std::string(row.name) + "\n" + request;
  checks = 1;
  if (row.on == server::idle_closing) {
    yaml += "  - name: pause on another connection\n    request: GET /delay/600\n    timeout: 2900ms\n";
    yaml += "  - name: " + std::string(row.name) + " on the reused connection\n" + request;
    checks = 3;
  }
  return yaml;
}

std::string agent_config(servers& s, const std::string& state_dir) {
  std::string yaml = "listen: 127.0.0.1:0\nstate_dir: " + state_dir + "\ntargets:\n";
  for (const auto& row : fault_rows) {
    // keep_alive everywhere: a response left in the buffer would show up in the next probe.
    yaml += "  - name: " + std::string(row.name) + "\n    url: \"" + s.url(row) + "\"\n    interval: 1s\n" +
            "    timeout: " + std::to_string(agent_timeout.count()) + "s\n    keep_alive: true\n" +
            (row.https ? "    insecure: true\n" : "");
  }
  return yaml;
}

}  // namespace

TEST_CASE("fault matrix: watchpost probe reports each hostile behaviour's kind within --timeout") {
  servers s;
  for (const auto& row : fault_rows) {
    const auto args = std::vector<std::string>{"probe", s.url(row), "--json", "--timeout",
                                               std::to_string(request_timeout.count()) + "s"} +
                      s.trust(row);
    check_cell("probe", row, row.probe, run_mode(args, probe_reported), request_timeout);
  }
}

TEST_CASE("fault matrix: watchpost smoke reports each hostile behaviour's kind within the check timeout") {
  servers s;
  const scratch_dir dir("smoke");
  for (const auto& row : fault_rows) {
    std::size_t checks = 0;
    const std::string suite = dir.write(std::string(row.name) + ".yaml", smoke_suite(s, row, checks));
    const std::string report = dir.path(std::string(row.name) + ".json");
    const auto args = std::vector<std::string>{"smoke", suite, "--json", report} + s.trust(row);
    const auto seen = run_mode(args, [&](const std::string&) { return smoke_reported(read_file(report)); });
    check_cell("smoke", row, row.smoke, seen, request_timeout * static_cast<int>(checks));
  }
}

TEST_CASE("fault matrix: watchpost load counts each hostile behaviour's kind and ends on time", "[load]") {
  servers s;
  const scratch_dir dir("load");
  for (const auto& row : fault_rows) {
    const std::string report = dir.path(std::string(row.name) + ".json");
    // Without a threshold a load run passes whatever it measured; the gate a CI job would set
    // makes the exit code carry the verdict.
    auto args = std::vector<std::string>{"load",        s.url(row),
                                         "-c",          "2",
                                         "-d",          std::to_string(load_duration.count()) + "s",
                                         "--timeout",   std::to_string(load_timeout.count()) + "s",
                                         "--json",      report,
                                         "--threshold", "error_rate<1%"} +
                s.trust(row);
    // 2 requests a second leave each connection idle well past the idle timeout between requests.
    if (row.on == server::idle_closing) args = args + std::vector<std::string>{"--rate", "2"};
    const auto seen = run_mode(args, [&](const std::string&) { return load_reported(read_file(report)); });
    // In-flight requests end at their own deadline after -d.
    check_cell("load", row, row.load, seen, load_duration + load_timeout);
    if (row.on == server::idle_closing) {
      INFO("load / " << row.name << ": requests resent after an idle close are counted as reconnects");
      CHECK(load_total(read_file(report), "reconnects") > 0);
    }
  }
}

TEST_CASE("fault matrix: the agent counts each hostile target under its result, on time, and stays up") {
  servers s;
  const scratch_dir dir("agent");
  agent_process agent(dir.write("agent.yaml", agent_config(s, dir.path("state"))));
  auto probes_of = [&](const std::string& metrics, const fault_row& row) {
    return samples_by(metrics, "watchpost_probe_total", {label("target", row.name)}, "result");
  };
  // Every target probed a few times (interval 1 s, random first phase), bounded.
  std::this_thread::sleep_for(4s);
  std::string metrics;
  for (const auto until = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(250ms)) {
    metrics = agent.metrics();
    bool all_probed = !metrics.empty();
    for (const auto& row : fault_rows)
      all_probed = all_probed && outcome_set(probes_of(metrics, row)) != "nothing";
    if (all_probed) break;
  }
  REQUIRE_FALSE(metrics.empty());
  for (const auto& row : fault_rows) {
    const auto results = probes_of(metrics, row);
    const std::vector<std::string> total_phase{label("target", row.name), label("phase", "total")};
    const double probed = sample_sum(metrics, "watchpost_probe_duration_seconds_count", total_phase);
    // The histogram's bucket just above the 2 s timeout: a probe past it outran its deadline.
    const double on_time = sample_sum(metrics, "watchpost_probe_duration_seconds_bucket",
                                      total_phase + std::vector{label("le", "2.5")});
    std::cout << "matrix agent " << row.name << ": " << outcome_set(results) << " (" << probed << " probes, "
              << probed - on_time << " over 2.5 s)" << std::endl;
    INFO("agent / " << row.name << " (" << (row.https ? "https " : "http ") << row.path << ")");
    CHECK(outcome_set(results) == row.agent);
    CHECK(probed > 0);
    CHECK(on_time == probed);
  }
  CHECK(agent.process().wait(50ms) == -1);  // still running after every hostile target
  agent.process().signal(SIGTERM);
  CHECK(agent.process().wait(agent_timeout + margin) == 0);  // in-flight probes end at their timeout
}
