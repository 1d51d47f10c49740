// The README's exit-code table, row by row for every command it applies to, against the real
// binary: 0 pass, 1 a check/probe/threshold failed, 2 bad usage or an invalid input file, 3 could
// not run. Errors (2, 3) are one line, "watchpost CMD: message", printed by the CLI's one guard.
#include <signal.h>

#include <catch2/catch.hpp>
#include <functional>
#include <iostream>

#include "matrix_support.hpp"

using namespace watchpost;
using namespace watchpost::e2e;
using namespace std::chrono_literals;

namespace {

// Files and servers the rows share: one test target (port taken, so also a busy listen port),
// a valid and a broken suite, and a load report of a passing run.
struct world {
  testing::test_target target{{"--no-tls"}};
  scratch_dir dir{"exit-codes"};
  std::string suite =
      dir.write("suite.yaml", "name: ok\nchecks:\n  - { name: health, request: GET /health }\n");
  std::string failing_suite =
      dir.write("failing.yaml", "name: failing\nchecks:\n  - { name: boom, request: GET /status/500 }\n");
  std::string broken_suite =
      dir.write("broken.yaml", "name: b\nchecks:\n  - { name: a, request: GET /, expct: {} }\n");
  std::string missing_ca = dir.path("no-such-ca.pem");
  std::string unwritable = dir.path("no-such-dir/report.out");
  std::string report = dir.path("run.json");
  std::string agent_config(const std::string& listen, const std::string& extra = "") const {
    return dir.write("agent.yaml", "listen: " + listen + "\nstate_dir: " + dir.path("state") + "\n" + extra +
                                       "targets:\n  - { name: t, url: '" + target.http_url("/health") +
                                       "', interval: 1s }\n");
  }
  world() {
    const auto r = testing::run_watchpost(
        {"load", target.http_url("/health"), "-n", "20", "-c", "2", "-q", "--json", report});
    if (r.exit_code != 0) FAIL("the report for the `report` rows was not written: " << r.err);
  }
};

world& shared() {
  static world w;
  return w;
}

struct row {
  std::string command;
  int code;
  std::string what;
  std::function<testing::command_result(world&)> run;
  std::string says;  // a fragment of stdout (codes 0, 1) or of the one stderr line (2, 3)
};

testing::command_result cli(std::vector<std::string> args) { return testing::run_watchpost(args); }

// `watchpost agent` runs until told to stop: a graceful SIGTERM after READY is its pass.
testing::command_result agent_until_sigterm(const std::string& config) {
  agent_process agent(config);
  agent.process().signal(SIGTERM);
  testing::command_result r;
  r.exit_code = agent.process().wait(10s);
  r.out = "stopped";
  return r;
}

std::vector<row> rows() {
  std::vector<row> t;
  auto add = [&](std::string command, int code, std::string what,
                 std::function<testing::command_result(world&)> run, std::string says) {
    t.push_back({command, code, what, run, says});
  };
  // Bad usage: every command, the same way.
  for (const char* command : {"probe", "smoke", "load", "agent", "check-config", "report"})
    add(
        command, 2, "an unknown option",
        [command](world&) {
          return cli({command, "--bogus"});
        },
        "bogus");

  add(
      "probe", 0, "a 2xx answer",
      [](world& w) {
        return cli({"probe", w.target.http_url("/health")});
      },
      "200");
  add(
      "probe", 1, "a 5xx answer",
      [](world& w) {
        return cli({"probe", w.target.http_url("/status/500")});
      },
      "status");
  add(
      "probe", 1, "a name that does not resolve",
      [](world&) {
        return cli({"probe", "http://no-such-host.invalid/"});
      },
      "dns");
  add(
      "probe", 2, "an unreadable --ca-file",
      [](world& w) {
        return cli({"probe", "https://127.0.0.1:1/", "--ca-file", w.missing_ca});
      },
      "no-such-ca.pem");

  add(
      "smoke", 0, "every check passes",
      [](world& w) {
        return cli({"smoke", w.suite, "--base-url", w.target.http_url("")});
      },
      "health");
  add(
      "smoke", 1, "a check fails",
      [](world& w) {
        return cli({"smoke", w.failing_suite, "--base-url", w.target.http_url("")});
      },
      "boom");
  add(
      "smoke", 2, "an invalid suite (file:line:col)",
      [](world& w) {
        return cli({"smoke", w.broken_suite, "--base-url", w.target.http_url("")});
      },
      "broken.yaml:3:");
  add(
      "smoke", 2, "an unreadable --ca-file",
      [](world& w) {
        return cli({"smoke", w.suite, "--base-url", "https://127.0.0.1:1", "--ca-file", w.missing_ca});
      },
      "no-such-ca.pem");
  add(
      "smoke", 3, "the target never becomes ready within --wait-ready",
      [](world& w) {
        return cli({"smoke", w.suite, "--base-url", "http://127.0.0.1:1", "--wait-ready", "300ms"});
      },
      "--wait-ready");
  add(
      "smoke", 3, "a report that cannot be written",
      [](world& w) {
        return cli({"smoke", w.suite, "--base-url", w.target.http_url(""), "--json", w.unwritable});
      },
      "cannot write");

  add(
      "load", 0, "no threshold fails",
      [](world& w) {
        return cli(
            {"load", w.target.http_url("/health"), "-n", "10", "-c", "1", "--threshold", "error_rate<1%"});
      },
      "requests");
  add(
      "load", 1, "a threshold fails",
      [](world& w) {
        return cli({"load", w.target.http_url("/status/500"), "-n", "10", "-c", "1", "--threshold",
                    "error_rate<1%"});
      },
      "status");
  // Not a setup error: the run starts and the summary counts dns errors like any failure kind.
  add(
      "load", 1, "a name that does not resolve, with a threshold",
      [](world&) {
        return cli(
            {"load", "http://no-such-host.invalid/", "-n", "3", "-c", "1", "--threshold", "error_rate<1%"});
      },
      "dns=3");
  add(
      "load", 2, "an invalid plan (file:line:col)",
      [](world& w) {
        return cli({"load", "--plan",
                    w.dir.write("plan.yaml", "url: " + w.target.http_url("/") + "\nconections: 5\n")});
      },
      "plan.yaml:2:");
  add(
      "load", 2, "an unreadable --ca-file",
      [](world& w) {
        return cli({"load", "https://127.0.0.1:1/", "-n", "1", "--ca-file", w.missing_ca});
      },
      "no-such-ca.pem");
  add(
      "load", 3, "a report that cannot be written",
      [](world& w) {
        return cli({"load", w.target.http_url("/health"), "-n", "5", "-q", "--json", w.unwritable});
      },
      "cannot write");

  add(
      "agent", 0, "a graceful stop (SIGTERM)",
      [](world& w) { return agent_until_sigterm(w.agent_config("127.0.0.1:0")); }, "stopped");
  add(
      "agent", 2, "an invalid config (file:line:col)",
      [](world& w) {
        return cli({"agent",
                    w.dir.write("bad-agent.yaml",
                                "targets:\n  - { name: a, url: 'http://127.0.0.1:1/', interval: soon }\n")});
      },
      "bad-agent.yaml:2:");
  add(
      "agent", 3, "its listen port is taken",
      [](world& w) {
        return cli({"agent", w.agent_config("127.0.0.1:" + std::to_string(w.target.http_port()))});
      },
      "cannot listen");

  add(
      "check-config", 0, "a valid suite",
      [](world& w) {
        return cli({"check-config", w.suite});
      },
      "ok");
  add(
      "check-config", 2, "an invalid suite (file:line:col)",
      [](world& w) {
        return cli({"check-config", w.broken_suite});
      },
      "broken.yaml:3:");
  add(
      "check-config", 2, "a missing file",
      [](world& w) {
        return cli({"check-config", w.dir.path("absent.yaml")});
      },
      "cannot open file");

  add(
      "report", 0, "the merged run passes its thresholds",
      [](world& w) {
        return cli({"report", "merge", w.report});
      },
      "requests");
  add(
      "report", 1, "a threshold fails",
      [](world& w) {
        return cli({"report", "merge", w.report, "--threshold", "requests>1000000"});
      },
      "requests");
  add(
      "report", 2, "an unreadable report",
      [](world& w) {
        return cli({"report", "merge", w.dir.path("absent.json")});
      },
      "absent.json");
  add(
      "report", 3, "a merged report that cannot be written",
      [](world& w) {
        return cli({"report", "merge", w.report, "--json", w.unwritable});
      },
      "cannot write");
  return t;
}

}  // namespace

TEST_CASE("exit codes: each row of the README's table, for every command it applies to") {
  for (const auto& r : rows()) {
    DYNAMIC_SECTION(r.command << " exits " << r.code << " on " << r.what) {
      const auto result = r.run(shared());
      std::cout << "exit " << r.command << " " << r.code << " (" << r.what << "): got " << result.exit_code
                << std::endl;
      INFO("stdout:\n" << result.out << "\nstderr:\n" << result.err);
      CHECK(result.exit_code == r.code);
      if (r.code >= 2) {
        // One line from the guard (or smoke's own report line), naming the command.
        CHECK_THAT(result.err, Catch::StartsWith("watchpost " + r.command + ": "));
        CHECK(result.err.find('\n') == result.err.size() - 1);
        CHECK_THAT(result.err, Catch::Contains(r.says));
      } else {
        CHECK_THAT(result.out, Catch::Contains(r.says));
      }
    }
  }
}
