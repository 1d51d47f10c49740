// `watchpost load` and `watchpost report merge` end to end: the real binary against the real
// test target on loopback. Every run is bounded by -d or -n.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "load_cli_support.hpp"
#include "watchpost/probes/http_client.hpp"

using namespace std::chrono_literals;
using namespace watchpost;
using watchpost::testing::child_process;
using watchpost::testing::errors_of;
using watchpost::testing::run_plan;
using watchpost::testing::run_watchpost;

namespace {

watchpost::testing::test_target& target() { return watchpost::testing::load_target(); }
std::string temp_path(const std::string& name) { return watchpost::testing::load_temp_path(name); }

// A loopback port nothing listens on: bound to find a free one, then released.
std::uint16_t refused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

// A 1 s run against a target that fails every request the same way: it must end on time with
// every request counted as an error of `kind`, named in the summary.
void check_every_request_fails(const std::string& url, const std::vector<std::string>& extra,
                               probes::failure_kind kind) {
  const auto json = temp_path("failing.json");
  std::vector<std::string> argv{"load", url, "-d", "1s", "--json", json};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run_watchpost(argv);
  INFO(url << ": " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.wall < 3s);
  const auto report = exporters::read_load_report_file(json);
  CHECK(report.totals.requests > 0);
  CHECK(errors_of(report, kind) == report.totals.requests);
  CHECK_THAT(r.out, Catch::Contains(std::string(probes::to_string(kind)) + "=" +
                                    std::to_string(report.totals.requests)));
  std::filesystem::remove(json);
}

std::uint64_t series_errors(const loadgen::load_result& r, probes::failure_kind kind) {
  std::uint64_t n = 0;
  for (const auto& p : r.series) n += p.totals.errors_by_kind[static_cast<std::size_t>(kind)];
  return n;
}

}  // namespace

TEST_CASE("load -n sends exactly N requests, across threads and connections", "[load]") {
  const auto json = temp_path("n.json");
  auto r = run_watchpost(
      {"load", target().http_url("/health"), "-n", "1237", "-c", "7", "-t", "2", "--json", json});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("requests   1237 in"));
  const auto report = exporters::read_load_report_file(json);
  CHECK(report.totals.requests == 1237);
  CHECK(report.totals.errors == 0);
  CHECK(report.totals.status_counts.at(200) == 1237);
  CHECK(report.latency.count() == 1237);
  std::filesystem::remove(json);
}

TEST_CASE("servers that close every connection are reconnected without errors", "[load]") {
  auto r = run_watchpost({"load", target().http_url("/health"), "-n", "300", "-c", "4", "-H",
                          "Connection: close", "-q", "--json", temp_path("close.json")});
  REQUIRE(r.exit_code == 0);
  const auto report = exporters::read_load_report_file(temp_path("close.json"));
  CHECK(report.totals.requests == 300);
  CHECK(report.totals.errors == 0);
  std::filesystem::remove(temp_path("close.json"));
}

TEST_CASE("open model at 2000/s for 5s sends 10,000 requests within 1%", "[load]") {
  const auto json = temp_path("rate.json");
  auto r = run_watchpost({"load", target().http_url("/health"), "--rate", "2000", "-d", "5s", "-c", "20",
                          "-t", "2", "--json", json});
  REQUIRE(r.exit_code == 0);
  const auto report = exporters::read_load_report_file(json);
  CHECK(report.totals.requests >= 9900);
  CHECK(report.totals.requests <= 10100);
  CHECK(report.open_model());
  CHECK(report.uncorrected_latency.count() == report.latency.count());
  CHECK(report.series.size() >= 5);
  CHECK_THAT(r.out, Catch::Contains("uncorrected"));
  std::filesystem::remove(json);
}

TEST_CASE("a 500 ms freeze shows in the corrected p99 and hides in the uncorrected one", "[load]") {
  const auto json = temp_path("freeze.json");
  child_process load(testing::watchpost_binary_path(),
                     {"load", target().http_url("/health"), "--rate", "1000", "-d", "5s", "-c", "10", "-t",
                      "2", "-q", "--json", json});
  std::this_thread::sleep_for(2s);
  probes::request freeze;
  freeze.target = std::get<probes::url>(probes::parse_url(target().http_url("/control/freeze?ms=500")));
  REQUIRE(probes::fetch(freeze, {}).status == 200);
  REQUIRE(load.wait(20s) == 0);
  const auto report = exporters::read_load_report_file(json);
  const auto corrected_p99 = report.latency.value_at_quantile(0.99);
  const auto uncorrected_p99 = report.uncorrected_latency.value_at_quantile(0.99);
  INFO("corrected p99 " << corrected_p99 << " ns, uncorrected p99 " << uncorrected_p99 << " ns");
  CHECK(corrected_p99 >= 300'000'000);
  CHECK(uncorrected_p99 < 100'000'000);
  std::filesystem::remove(json);
}

TEST_CASE("thresholds pass and fail as written, with exit codes 0 and 1", "[load]") {
  auto pass = run_watchpost({"load", target().http_url("/health"), "-d", "1s", "-c", "2", "--threshold",
                             "p99<5s", "--threshold", "error_rate<1%", "--threshold", "rps>1"});
  CHECK(pass.exit_code == 0);
  CHECK_THAT(pass.out, Catch::Contains("PASS  p99<5s"));

  auto fail = run_watchpost({"load", target().http_url("/status/503"), "-d", "1s", "-c", "2", "--threshold",
                             "error_rate<0.1%", "--threshold", "p50<1h"});
  CHECK(fail.exit_code == 1);
  CHECK_THAT(fail.err, Catch::Contains("threshold failed: error_rate<0.1%"));
  CHECK_THAT(fail.out, Catch::Contains("status=") && Catch::Contains("503="));

  auto slow = run_watchpost({"load", target().http_url("/delay/50"), "-d", "3s", "-c", "2", "--threshold",
                             "p99<10ms,window=1s", "--abort-on-fail"});
  CHECK(slow.exit_code == 1);
  CHECK_THAT(slow.err, Catch::Contains("p99<10ms,window=1s"));
  CHECK(slow.wall < 2800ms);  // aborted after the first failing second
}

TEST_CASE("bad flags and plans are one-line errors with exit 2", "[load]") {
  for (std::vector<std::string> argv : {std::vector<std::string>{"load"},
                                        {"load", target().http_url("/"), "--threshold", "p99<fast"},
                                        {"load", target().http_url("/"), "-d", "ten"},
                                        {"load", target().http_url("/"), "--stage", "10s"},
                                        {"load", target().http_url("/"), "--shard", "3/2"},
                                        {"load", "ftp://x/"},
                                        {"load", target().http_url("/"), "--bogus"}}) {
    auto r = run_watchpost(argv);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(one_line(r.err));
  }
  const auto plan = temp_path("bad-plan.yaml");
  std::ofstream(plan) << "url: " << target().http_url("/") << "\nconections: 5\n";
  auto r = run_watchpost({"load", "--plan", plan});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad-plan.yaml:2:"));
  std::filesystem::remove(plan);
}

TEST_CASE(
    "I/O back ends: --io runs the one asked for and reports it, a refused io_uring (at the probe or at a "
    "worker's ring setup) falls back (auto) or fails (uring)",
    "[load]") {
  const auto json = temp_path("io.json");
  struct run {
    watchpost::testing::command_result command;
    loadgen::load_result report;
  };
  auto load = [&](const std::string& io, const std::map<std::string, std::string>& env) {
    run r{run_watchpost({"load", target().http_url("/"), "-n", "200", "-c", "4", "--io", io, "--json", json},
                        env),
          {}};
    INFO(io << ": " << r.command.err);
    if (std::filesystem::exists(json)) r.report = exporters::read_load_report_file(json);
    std::filesystem::remove(json);
    return r;
  };

  // This kernel may or may not allow io_uring: auto says which ran, and why when not io_uring.
  const auto automatic = load("auto", {});
  REQUIRE(automatic.command.exit_code == 0);
  CHECK(automatic.report.totals.requests == 200);
  const bool have_uring = automatic.report.io_backend == "uring";
  if (!have_uring) {
    CHECK(automatic.report.io_backend == "epoll");
    CHECK_FALSE(automatic.report.io_backend_reason.empty());
  }
  CHECK_THAT(automatic.command.out, Catch::Contains("  io         " + automatic.report.io_backend));

  for (const std::string io : {"uring", "epoll"}) {
    const auto asked = load(io, {});
    if (io == "uring" && !have_uring) {
      CHECK(asked.command.exit_code == 2);
      continue;
    }
    CHECK(asked.command.exit_code == 0);
    CHECK(asked.report.io_backend == io);
    CHECK(asked.report.totals.requests == 200);
    CHECK(asked.report.totals.errors == 0);
  }

  // Refused (as io_uring_disabled or a seccomp filter would): auto falls back and says why,
  // --io uring is a one-line usage error naming the cause.
  const std::map<std::string, std::string> refused{{"WATCHPOST_IO_URING", "0"}};
  const auto fallback = load("auto", refused);
  CHECK(fallback.command.exit_code == 0);
  CHECK(fallback.report.io_backend == "epoll");
  CHECK_THAT(fallback.report.io_backend_reason, Catch::Contains("WATCHPOST_IO_URING=0"));
  CHECK(fallback.report.totals.requests == 200);
  CHECK_THAT(fallback.command.out,
             Catch::Contains("  io         epoll (io_uring refused by WATCHPOST_IO_URING=0)"));
  const auto error = load("uring", refused);
  CHECK(error.command.exit_code == 2);
  CHECK(one_line(error.command.err));
  CHECK_THAT(error.command.err, Catch::Contains("--io uring: io_uring refused by WATCHPOST_IO_URING=0"));
  CHECK(load("sideways", {}).command.exit_code == 2);

  // The probe passes but a worker's ring cannot be set up (a descriptor or memory limit reached
  // after it): the same two outcomes, never a crash.
  if (!have_uring) return;
  const std::map<std::string, std::string> late{{"WATCHPOST_IO_URING", "late"}};
  const auto late_fallback = load("auto", late);
  CHECK(late_fallback.command.exit_code == 0);
  CHECK(late_fallback.report.io_backend == "epoll");
  CHECK_THAT(late_fallback.report.io_backend_reason, Catch::Contains("WATCHPOST_IO_URING=late"));
  CHECK(late_fallback.report.totals.requests == 200);
  const auto late_error = load("uring", late);
  CHECK(late_error.command.exit_code == 2);
  CHECK(one_line(late_error.command.err));
  CHECK_THAT(late_error.command.err,
             Catch::Contains("--io uring: io_uring setup refused by WATCHPOST_IO_URING=late"));
}

TEST_CASE("a refused target gives connect errors and ends on time", "[load]") {
  check_every_request_fails("http://127.0.0.1:" + std::to_string(refused_port()) + "/", {"-c", "4"},
                            probes::failure_kind::connect);
}

TEST_CASE("a server that resets or garbles every response gives reset or protocol errors and ends on time",
          "[load]") {
  // /reset sends a head and 10 body bytes, then resets the connection.
  check_every_request_fails(target().http_url("/reset"), {"-c", "4"}, probes::failure_kind::reset);

  const auto json = temp_path("garbage.json");
  auto garbage =
      run_watchpost({"load", target().http_url("/garbage"), "-n", "40", "-c", "4", "--json", json});
  const auto report = exporters::read_load_report_file(json);
  CHECK(report.totals.requests == 40);
  CHECK(errors_of(report, probes::failure_kind::protocol) == 40);
  CHECK_THAT(garbage.out, Catch::Contains("protocol=40"));
  std::filesystem::remove(json);
}

TEST_CASE("an unreachable target (SYNs dropped) gives connect_timeout errors and ends on time", "[load]") {
  // A listener that never accepts, its queue filled: the kernel drops further SYNs, as a
  // black-holed address would.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 0) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  const auto json = temp_path("unreachable.json");
  auto r = run_watchpost({"load", url, "-d", "2s", "-c", "4", "--connect-timeout", "300ms", "--timeout",
                          "300ms", "--json", json});
  ::close(fd);
  CHECK(r.exit_code == 0);
  CHECK(r.wall < 4s);
  CHECK_THAT(r.out, Catch::Contains("connect_timeout="));
  const auto report = exporters::read_load_report_file(json);
  CHECK(errors_of(report, probes::failure_kind::connect_timeout) > 0);
  // The one connection the queue took waits for an answer that never comes.
  CHECK(errors_of(report, probes::failure_kind::connect_timeout) +
            errors_of(report, probes::failure_kind::timeout) ==
        report.totals.requests);
  CHECK(report.totals.errors == report.totals.requests);
  std::filesystem::remove(json);
}

TEST_CASE("a slow server gives timeout errors and ends on time", "[load]") {
  auto r = run_watchpost({"load", target().http_url("/delay/3000"), "-d", "2s", "-c", "3", "--timeout",
                          "300ms", "--json", temp_path("slow.json")});
  CHECK(r.wall < 4s);
  const auto report = exporters::read_load_report_file(temp_path("slow.json"));
  CHECK(errors_of(report, probes::failure_kind::timeout) >= 3);
  std::filesystem::remove(temp_path("slow.json"));
}

TEST_CASE("SIGINT ends the run early and still writes the summary and reports", "[load]") {
  const auto json = temp_path("sigint.json"), html = temp_path("sigint.html");
  child_process load(testing::watchpost_binary_path(), {"load", target().http_url("/health"), "-d", "30s",
                                                        "-c", "2", "--json", json, "--html", html});
  std::this_thread::sleep_for(1500ms);
  load.signal(SIGINT);
  const auto start = std::chrono::steady_clock::now();
  CHECK(load.wait(5s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  std::string summary;
  for (std::string line; !(line = load.read_line(1s)).empty();) summary += line + "\n";
  CHECK_THAT(summary, Catch::Contains("ended early: interrupted") && Catch::Contains("requests   "));
  const auto report = exporters::read_load_report_file(json);
  CHECK(report.interrupted);
  CHECK(report.totals.requests > 0);
  CHECK(report.elapsed_seconds < 5);
  CHECK(std::filesystem::file_size(html) > 1000);
  std::filesystem::remove(json);
  std::filesystem::remove(html);
}

TEST_CASE("plan files: a weighted mix with status expectations", "[load]") {
  auto r = run_plan("plan",
                    "connections: 4\ncount: 400\nthresholds: [ 'error_rate<1%' ]\n"
                    "headers: { User-Agent: watchpost-load-test }\n"
                    "requests:\n"
                    "  - { name: health, path: /health, weight: 3, expect: { status: 200 } }\n"
                    "  - { name: missing, path: /status/404, weight: 1, expect: { status: 4xx } }\n");
  INFO(r.command.err);
  CHECK(r.command.exit_code == 0);
  CHECK(r.report.totals.requests == 400);
  CHECK(r.report.totals.errors == 0);
  const auto ok = r.report.totals.status_counts.at(200), missing = r.report.totals.status_counts.at(404);
  CHECK(ok + missing == 400);
  CHECK(ok > 2 * missing);  // 3:1 weights
}

TEST_CASE("shards merge into one report and one verdict", "[load]") {
  const auto a = temp_path("shard1.json"), b = temp_path("shard2.json"), merged = temp_path("merged.json"),
             html = temp_path("merged.html");
  auto r1 = run_watchpost({"load", target().http_url("/health"), "-n", "500", "-c", "4", "--shard", "1/2",
                           "-q", "--json", a, "--threshold", "p99<5s"});
  auto r2 = run_watchpost({"load", target().http_url("/health"), "-n", "500", "-c", "4", "--shard", "2/2",
                           "-q", "--json", b, "--threshold", "p99<5s"});
  REQUIRE(r1.exit_code == 0);
  REQUIRE(r2.exit_code == 0);
  auto m = run_watchpost({"report", "merge", a, b, "--json", merged, "--html", html});
  INFO(m.err);
  CHECK(m.exit_code == 0);
  CHECK_THAT(m.out, Catch::Contains("requests   500 in") && Catch::Contains("PASS  p99<5s"));
  const auto report = exporters::read_load_report_file(merged);
  CHECK(report.totals.requests == 500);
  auto both = exporters::read_load_report_file(a).latency;
  both.merge(exporters::read_load_report_file(b).latency);
  CHECK(report.latency == both);
  CHECK(std::filesystem::file_size(html) > 1000);
  auto strict = run_watchpost({"report", "merge", a, b, "--threshold", "p99<1us"});
  CHECK(strict.exit_code == 1);
  for (const auto& f : {a, b, merged, html}) std::filesystem::remove(f);
}

TEST_CASE("stages ramp connections (closed) and the rate (open) and set the run length", "[load]") {
  auto closed = run_watchpost({"load", target().http_url("/health"), "--stage", "1s:4", "--stage", "1s:1",
                               "-q", "--json", temp_path("stages.json")});
  CHECK(closed.exit_code == 0);
  CHECK(closed.wall < 4s);
  auto report = exporters::read_load_report_file(temp_path("stages.json"));
  CHECK(report.totals.requests > 0);
  CHECK(report.elapsed_seconds == Approx(2.0).margin(0.3));

  // 0 -> 1000/s over 1 s, then 1000/s for 1 s: 500 + 1000 requests.
  auto open = run_watchpost({"load", target().http_url("/health"), "--rate", "0.001", "--stage", "1s:1000",
                             "--stage", "1s:1000", "-c", "8", "-q", "--json", temp_path("stages.json")});
  CHECK(open.exit_code == 0);
  report = exporters::read_load_report_file(temp_path("stages.json"));
  CHECK(report.totals.requests >= 1480);
  CHECK(report.totals.requests <= 1520);
  std::filesystem::remove(temp_path("stages.json"));
}

TEST_CASE("plan expect: a failing json assertion on a 10% sample counts exactly, as kind assertion",
          "[load]") {
  // 1000 requests on 2 threads: each samples its 1st, 11th, 21st... response: 50 + 50.
  auto r = run_plan("json-sample",
                    "threads: 2\nconnections: 4\ncount: 1000\n"
                    "requests:\n"
                    "  - path: /api/info\n"
                    "    expect: { status: 200, json: { $.name: not-the-name } }\n"
                    "    sample: 10%\n",
                    {"--threshold", "error_rate<5%", "--html", temp_path("json-sample.html")});
  INFO(r.command.err);
  CHECK(r.command.exit_code == 1);
  CHECK_THAT(r.command.err, Catch::Contains("threshold failed: error_rate<5%"));
  CHECK_THAT(r.command.out, Catch::Contains("assertion=100"));
  CHECK(r.report.totals.requests == 1000);
  CHECK(r.report.totals.status_counts.at(200) == 1000);
  CHECK(errors_of(r.report, probes::failure_kind::assertion) == 100);
  CHECK(errors_of(r.report, probes::failure_kind::status) == 0);
  CHECK(r.report.totals.errors == 100);
  CHECK(series_errors(r.report, probes::failure_kind::assertion) == 100);
  std::ifstream html(temp_path("json-sample.html"));
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  CHECK_THAT(page, Catch::Contains("assertion=100"));
  std::filesystem::remove(temp_path("json-sample.html"));
}

TEST_CASE("plan expect: header, body, json and latency assertions that hold on every response", "[load]") {
  auto r = run_plan("all-pass",
                    "connections: 3\ncount: 300\n"
                    "requests:\n"
                    "  - path: /health\n"
                    "    expect:\n"
                    "      headers: { Content-Type: { contains: json }, X-Not-There: { present: false } }\n"
                    "      body: { contains: '\"status\":\"ok\"', max_bytes: 4096 }\n"
                    "      json: { $.checks.db: ok }\n"
                    "      latency: < 10s\n",
                    {"--threshold", "error_rate<0.1%"});
  INFO(r.command.err);
  CHECK(r.command.exit_code == 0);
  CHECK(r.report.totals.requests == 300);
  CHECK(r.report.totals.errors == 0);
}

TEST_CASE("plan expect: a status mismatch is kind status, not assertion, sampled or not", "[load]") {
  auto r = run_plan("status-kind",
                    "connections: 2\ncount: 200\n"
                    "requests:\n"
                    "  - path: /status/503\n"
                    "    expect: { status: 200, body: { contains: 'status 503' } }\n"
                    "    sample: 50%\n");
  CHECK(r.command.exit_code == 0);  // no thresholds: errors alone do not fail the run
  CHECK(errors_of(r.report, probes::failure_kind::status) == 200);
  CHECK(errors_of(r.report, probes::failure_kind::assertion) == 0);
}

TEST_CASE("plan expect: sampling and tls: mistakes are file:line:col errors", "[load]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"requests:\n  - { path: /, sample: 10% }\n", ":3:"},
      {"requests:\n  - path: /\n    expect: { status: 200 }\n    sample: 0%\n",
       ":5:13: sample must be a percentage"},
      {"requests:\n  - path: /\n    expect: { status: 200 }\n    sample: 150\n", ":5:"},
      {"requests:\n  - path: /\n    expect: { tls: { min_version: '1.2' } }\n", "tls"},
      {"requests:\n  - path: /\n    expect: { body: { contains: '${NOPE}' } }\n", ":4:"}};
  for (const auto& [body, wanted] : cases) {
    auto r = run_plan("bad-expect", body);
    INFO(body << "\n" << r.command.err);
    CHECK(r.command.exit_code == 2);
    CHECK(one_line(r.command.err));
    CHECK_THAT(r.command.err, Catch::Contains("bad-expect.yaml") && Catch::Contains(wanted));
  }
}

TEST_CASE("plan expect: failure messages are summarised, with credentials masked", "[load]") {
  auto r = run_plan("masked",
                    "connections: 2\ncount: 50\n"
                    "requests:\n"
                    "  - name: echo-headers\n"
                    "    path: /headers\n"
                    "    headers: { Authorization: Bearer s3cret-load-token }\n"
                    "    expect: { body: { contains: never-there } }\n");
  INFO(r.command.out);
  CHECK(errors_of(r.report, probes::failure_kind::assertion) == 50);
  CHECK_THAT(r.command.out, Catch::Contains("50 x echo-headers: body: expected to contain \"never-there\""));
  CHECK_THAT(r.command.out, !Catch::Contains("s3cret-load-token"));
  REQUIRE(r.report.assertion_failures.size() == 1);
  CHECK(r.report.assertion_failures.begin()->first.find("s3cret-load-token") == std::string::npos);
  CHECK(r.report.assertion_failures.begin()->second == 50);
}

namespace {

std::uint64_t connections_accepted() {
  probes::request stats;
  stats.target = std::get<probes::url>(probes::parse_url(target().http_url("/stats")));
  const auto res = probes::fetch(stats, {});
  const auto at = res.body.find("\"accepted\":");
  return at == std::string::npos ? 0 : std::stoull(res.body.substr(at + 11));
}

}  // namespace

TEST_CASE("https: exact counts over keep-alive TLS connections verified against --ca-file") {
  const auto json = temp_path("https.json");
  const auto before = connections_accepted();
  auto r = run_watchpost({"load", target().https_url("/health"), "-n", "600", "-c", "4", "-t", "2",
                          "--ca-file", target().cert_file(), "-q", "--json", json});
  const auto after = connections_accepted();
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto report = exporters::read_load_report_file(json);
  CHECK(report.totals.requests == 600);
  CHECK(report.totals.errors == 0);
  CHECK(report.totals.status_counts.at(200) == 600);
  CHECK(after - before <= 4 + 2);  // 4 load connections, reused; +1 for each /stats fetch
  std::filesystem::remove(json);
}

TEST_CASE(
    "https: an untrusted certificate is tls_verify unless --insecure, and TLS to a plain port is "
    "tls_handshake") {
  check_every_request_fails(target().https_url("/health"), {"-c", "2"}, probes::failure_kind::tls_verify);
  check_every_request_fails("https://127.0.0.1:" + std::to_string(target().http_port()) + "/health",
                            {"-c", "2", "-k"}, probes::failure_kind::tls_handshake);

  const auto json = temp_path("insecure.json");
  auto insecure = run_watchpost(
      {"load", target().https_url("/health"), "-n", "100", "-c", "2", "--insecure", "--json", json});
  CHECK(insecure.exit_code == 0);
  const auto report = exporters::read_load_report_file(json);
  CHECK(report.totals.requests == 100);
  CHECK(report.totals.errors == 0);

  auto bad_ca = run_watchpost(
      {"load", target().https_url("/health"), "-n", "1", "--ca-file", temp_path("no-such-ca.pem")});
  CHECK(bad_ca.exit_code == 2);  // an unreadable input file, as in every command
  CHECK(one_line(bad_ca.err));
  CHECK_THAT(bad_ca.err, Catch::Contains("no-such-ca.pem"));
  std::filesystem::remove(json);
}

TEST_CASE("https plans: ca_file relative to the plan file, and expect: over TLS") {
  const auto ca = temp_path("plan-ca.pem");
  std::filesystem::copy_file(target().cert_file(), ca, std::filesystem::copy_options::overwrite_existing);
  auto r = run_plan("tls-plan",
                    "ca_file: " + std::filesystem::path(ca).filename().string() + "\n" +
                        "connections: 2\ncount: 100\n"
                        "requests:\n"
                        "  - { path: /api/info, expect: { json: { $.count: 2 } }, sample: 10% }\n",
                    {}, target().https_url("/"));
  INFO(r.command.err);
  CHECK(r.command.exit_code == 0);
  CHECK(r.report.totals.requests == 100);
  CHECK(r.report.totals.errors == 0);
  std::filesystem::remove(ca);
}
