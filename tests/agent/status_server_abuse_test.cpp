// The status server under hostile clients (issue 10): request caps (431/413), the connection cap
// and its descriptor reserve for probes, /metrics rendered at most once per second off the control
// thread, the non-loopback warning, and a flood of idle and chunk-extension clients.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "agent_fixture.hpp"
#include "raw_client.hpp"

using namespace watchpost;
using namespace watchpost::agent_test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {
#if defined(WATCHPOST_SANITIZED)
// The sanitizers slow every step several times, keep freed memory in quarantine (up to 256 MB),
// and read memory through a pipe in their vptr check, which needs two free descriptors.
constexpr bool sanitized = true;
constexpr long healthz_p95_bound_ms = 400;
#else
constexpr bool sanitized = false;
constexpr long healthz_p95_bound_ms = 100;
#endif
// Starvation shows as many slow answers; one late answer is the test's own 20 streamer threads
// and the agent sharing 2 cores (CI once saw 110 ms once in 200 polls). The worst answer still has
// to come well inside raw_get's 2 s.
constexpr long healthz_worst_bound_ms = 1000;

const std::string ok_series = "watchpost_probe_total{check=\"probe\",result=\"ok\",target=\"app\"}";
const std::string connect_series = "watchpost_probe_total{check=\"probe\",result=\"connect\",target=\"app\"}";
const std::string success_series = "watchpost_probe_success{check=\"probe\",target=\"app\"}";

// One target "app" probed every 200 ms on a new connection each time (keep_alive: false), so a
// probe needs a free descriptor.
std::string agent_yaml(const std::string& dir, const std::string& listen, const std::string& url,
                       const std::string& extra = "") {
  return "listen: " + listen + "\nstate_dir: " + dir + "/state\n" + extra +
         "targets:\n  - name: app\n    url: " + url +
         "\n    interval: 200ms\n    timeout: 1s\n    keep_alive: false\n";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }
}  // namespace

TEST_CASE("status server: a request header over 8 KiB gets 431 and the connection closes",
          "[status_server]") {
  const auto dir = temp_dir("abuse-431");
  write_text(dir + "/agent.yaml", agent_yaml(dir, "127.0.0.1:0", "http://127.0.0.1:1/"));
  running_agent agent(dir + "/agent.yaml");
  raw_socket client(agent.port());
  REQUIRE(client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  bool closed = false;
  const std::string got = client.read_until_closed(3s, &closed);
  CHECK(status_line(got) == "HTTP/1.1 431 Request Header Fields Too Large");
  CHECK(closed);
  CHECK(status_line(raw_get(agent.port(), "/healthz", 2s)) == "HTTP/1.1 200 OK");  // still serving
}

TEST_CASE("status server: a GET with a body or chunk extensions gets 413 unread and the connection closes",
          "[status_server]") {
  const auto dir = temp_dir("abuse-413");
  write_text(dir + "/agent.yaml", agent_yaml(dir, "127.0.0.1:0", "http://127.0.0.1:1/"));
  running_agent agent(dir + "/agent.yaml");
  const std::string chunk_extensions = "1;" + std::string(32 * 1024, 'e') + "=x";
  for (const std::string& request :
       {std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
        "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk_extensions,
        std::string("HEAD /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n")}) {
    INFO(request.substr(0, 60));
    raw_socket client(agent.port());
    REQUIRE(client.send(request));
    bool closed = false;
    const std::string got = client.read_until_closed(3s, &closed);
    CHECK(status_line(got) == "HTTP/1.1 413 Payload Too Large");
    CHECK(closed);
  }
  // A body on another method is not read either: 405 and closed.
  raw_socket post(agent.port());
  REQUIRE(post.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  bool closed = false;
  CHECK(status_line(post.read_until_closed(3s, &closed)) == "HTTP/1.1 405 Method Not Allowed");
  CHECK(closed);
}

TEST_CASE("status server: at 256 clients the 257th closes the longest-idle one and is served",
          "[status_server]") {
  REQUIRE(raise_own_descriptor_limit() >= 400);
  const auto dir = temp_dir("abuse-cap");
  write_text(dir + "/agent.yaml", agent_yaml(dir, "127.0.0.1:0", "http://127.0.0.1:1/"));  // default cap: 256
  running_agent agent(dir + "/agent.yaml");
  std::vector<raw_socket> clients;
  for (int i = 0; i < 256; ++i) clients.emplace_back(agent.port());
  auto healthz = [](raw_socket& c) {
    return c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") ? status_line(c.read_response(3s))
                                                              : std::string();
  };
  // Each client is accepted (it is the server's turn to wait) before the next connects.
  REQUIRE(healthz(clients.back()) == "HTTP/1.1 200 OK");
  raw_socket extra(agent.port());
  CHECK(healthz(extra) == "HTTP/1.1 200 OK");
  const auto start = steady::now();
  bool closed = false;
  CHECK(clients.front().read_until_closed(3s, &closed).empty());  // the longest idle made room
  CHECK(closed);
  CHECK(steady::now() - start < 1s);
  int answered = 0;
  for (std::size_t i = 1; i < clients.size(); ++i) answered += healthz(clients[i]) == "HTTP/1.1 200 OK";
  CHECK(answered == 255);
}

TEST_CASE("status server: /metrics renders at most once per second, concurrent scrapers share it",
          "[status_server]") {
  testing::test_target target({"--no-tls"});
  const auto dir = temp_dir("abuse-render");
  write_text(dir + "/agent.yaml", agent_yaml(dir, "127.0.0.1:0", target.http_url("/health")));
  running_agent agent(dir + "/agent.yaml");
  // The probe counter changes every 200 ms: a text per scrape would give ~30 distinct texts.
  std::set<std::string> texts;
  for (auto end = steady::now() + 3s; steady::now() < end; std::this_thread::sleep_for(100ms)) {
    const std::string body = body_of(raw_get(agent.port(), "/metrics", 5s));
    REQUIRE(body.find(ok_series) != std::string::npos);
    texts.insert(body);
  }
  CHECK(texts.size() >= 2);  // it does render again
  CHECK(texts.size() <= 4);  // 3 s hold at most 4 renders
  std::vector<std::string> concurrent(8);
  std::vector<std::thread> scrapers;
  for (auto& text : concurrent)
    scrapers.emplace_back([&] { text = body_of(raw_get(agent.port(), "/metrics", 5s)); });
  for (auto& s : scrapers) s.join();
  CHECK(std::set<std::string>(concurrent.begin(), concurrent.end()).size() <= 2);
  CHECK(std::none_of(concurrent.begin(), concurrent.end(), [](const std::string& t) { return t.empty(); }));
}

TEST_CASE("status server: listening beyond loopback without auth or TLS is warned about", "[status_server]") {
  const auto dir = temp_dir("abuse-warn");
  for (const std::string listen : {"0.0.0.0:0", "127.0.0.1:0"}) {
    write_text(dir + "/agent.yaml", agent_yaml(dir, listen, "http://127.0.0.1:1/"));
    logged_agent agent(dir + "/agent.yaml", dir + "/agent.log");
    REQUIRE(wait_until(
        [&] { return read_file(dir + "/agent.log").find("agent started") != std::string::npos; }, 5s));
    const bool warned = read_file(dir + "/agent.log").find("listening beyond loopback") != std::string::npos;
    CHECK(warned == (listen == "0.0.0.0:0"));
  }
}

TEST_CASE("status server: accept errors back off instead of spinning", "[status_server]") {
  if (sanitized) {
    WARN("not run in a sanitizer build: with no descriptor left the vptr check reports every object invalid");
    return;
  }
  const auto dir = temp_dir("abuse-emfile");
  write_text(dir + "/agent.yaml", agent_yaml(dir, "127.0.0.1:0", "http://127.0.0.1:1/"));
  logged_agent agent(dir + "/agent.yaml", dir + "/agent.log");
  REQUIRE(wait_until([&] { return read_file(dir + "/agent.log").find("agent started") != std::string::npos; },
                     5s));
  const pid_t pid = agent.process().pid();
  // No descriptor left: every accept fails with EMFILE while the clients wait in the backlog.
  rlimit before{};
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, nullptr, &before) == 0);
  rlimit none = before;
  none.rlim_cur = static_cast<rlim_t>(
      std::distance(std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"),
                    std::filesystem::directory_iterator{}));
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, &none, nullptr) == 0);
  std::vector<raw_socket> waiting;
  for (int i = 0; i < 3; ++i) waiting.emplace_back(agent.port());
  std::this_thread::sleep_for(300ms);
  const process_usage start = usage_of(pid);
  std::this_thread::sleep_for(2s);
  const double cpu = static_cast<double>(usage_of(pid).cpu_ticks - start.cpu_ticks) /
                     (2.0 * static_cast<double>(::sysconf(_SC_CLK_TCK)));
  CHECK(cpu < 0.05);  // a retry at once would spin a core
  CHECK(read_file(dir + "/agent.log").find("backing off") != std::string::npos);
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, &before, nullptr) == 0);
  // Descriptors are back: the waiting clients are accepted within the backoff (1 s at most).
  REQUIRE(waiting.front().send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(status_line(waiting.front().read_response(3s)) == "HTTP/1.1 200 OK");
}

TEST_CASE("status server: a flood of clients leaves descriptors for the probes", "[status_server]") {
  REQUIRE(raise_own_descriptor_limit() >= 1000);
  testing::test_target target({"--no-tls"});
  const auto dir = temp_dir("abuse-reserve");
  write_text(dir + "/agent.yaml",
             agent_yaml(dir, "127.0.0.1:0", target.http_url("/health"), "listen_max_connections: 100000\n"));
  logged_agent agent(dir + "/agent.yaml", dir + "/agent.log", 256);
  // 256 descriptors less 2 per target and 64 for files, DNS and webhooks.
  REQUIRE(wait_until([&] { return read_file(dir + "/agent.log").find("agent started") != std::string::npos; },
                     5s));
  CHECK(read_file(dir + "/agent.log").find("nofile=256 listen_max_connections=190") != std::string::npos);
  auto scrape = [&] { return body_of(raw_get(agent.port(), "/metrics", 5s)); };
  REQUIRE(wait_until([&] { return metric_value(scrape(), success_series) == 1; }, 5s));
  std::vector<raw_socket> flood;
  for (int i = 0; i < 400; ++i) flood.emplace_back(agent.port());
  bool closed = false;
  CHECK(flood.front().read_until_closed(2s, &closed).empty());  // over the cap: the longest idle went
  CHECK(closed);
  const double ok_before = metric_value(scrape(), ok_series);
  std::this_thread::sleep_for(2500ms);
  const std::string after = scrape();
  CHECK(metric_value(after, success_series) == 1);
  CHECK(metric_value(after, ok_series) >= ok_before + 5);
  CHECK(metric_value(after, connect_series) <= 0);
}

TEST_CASE(
    "status server: 5,000 idle sockets and 20 chunk-extension streamers starve neither probes nor /healthz",
    "[status_server][flood][serial]") {
  REQUIRE(raise_own_descriptor_limit() >= 5200);
  testing::test_target target({"--no-tls"});
  const auto dir = temp_dir("abuse-flood");
  write_text(dir + "/agent.yaml",
             agent_yaml(dir, "127.0.0.1:0", target.http_url("/health")));  // default cap: 256
  running_agent agent(dir + "/agent.yaml");
  const pid_t pid = agent.process().pid();
  REQUIRE(wait_until(
      [&] { return metric_value(body_of(raw_get(agent.port(), "/metrics", 5s)), success_series) == 1; }, 5s));
  const double ok_before = metric_value(body_of(raw_get(agent.port(), "/metrics", 5s)), ok_series);
  const process_usage before = usage_of(pid);

  std::vector<raw_socket> idle;
  idle.reserve(5000);
  for (int i = 0; i < 5000; ++i) idle.emplace_back(agent.port());
  std::atomic<bool> stop{false};
  std::atomic<int> streamed{0};  // connections the streamers got
  std::vector<std::thread> streamers;
  for (int i = 0; i < 20; ++i) {
    streamers.emplace_back([&] {
      const std::string extension = ";" + std::string(1000, 'e');  // one chunk's extensions, never ending
      while (!stop) {
        try {
          raw_socket s(agent.port());
          ++streamed;
          if (!s.send("GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1")) continue;
          while (!stop && s.send(extension)) std::this_thread::sleep_for(1ms);
        } catch (const std::runtime_error&) {
          std::this_thread::sleep_for(10ms);
        }
      }
    });
  }
  std::vector<long> healthz_ms;  // each poll's answer time
  long peak_rss_kb = before.rss_kb;
  int polls = 0, failed = 0;
  for (const auto end = steady::now() + 20s; steady::now() < end; std::this_thread::sleep_for(100ms)) {
    const auto start = steady::now();
    const bool ok = status_line(raw_get(agent.port(), "/healthz", 2s)) == "HTTP/1.1 200 OK";
    healthz_ms.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count());
    ++polls;
    failed += !ok;
    peak_rss_kb = std::max(peak_rss_kb, usage_of(pid).rss_kb);
  }
  const std::string during = body_of(raw_get(agent.port(), "/metrics", 5s));
  stop = true;
  for (auto& s : streamers) s.join();
  idle.clear();
  std::this_thread::sleep_for(500ms);
  const process_usage calm_start = usage_of(pid);
  std::this_thread::sleep_for(2s);
  const double calm_cpu = static_cast<double>(usage_of(pid).cpu_ticks - calm_start.cpu_ticks) /
                          (2.0 * static_cast<double>(::sysconf(_SC_CLK_TCK)));

  CHECK(streamed > 20);  // the streamers were served, refused and came back
  REQUIRE(polls >= 100);
  CHECK(failed == 0);
  std::sort(healthz_ms.begin(), healthz_ms.end());
  const long p95_ms = healthz_ms[healthz_ms.size() * 95 / 100], worst_ms = healthz_ms.back();
  CHECK(p95_ms < healthz_p95_bound_ms);
  CHECK(worst_ms < healthz_worst_bound_ms);
  CHECK(metric_value(during, success_series) == 1);
  CHECK(metric_value(during, ok_series) >= ok_before + 40);  // ~100 probes in 20 s at 200 ms
  CHECK(metric_value(during, connect_series) <= 0);
  if (sanitized)
    WARN("RSS bound not checked in a sanitizer build: +" << (peak_rss_kb - before.rss_kb) / 1024 << " MB");
  else
    CHECK(peak_rss_kb - before.rss_kb < 30 * 1024);
  CHECK(calm_cpu < 0.05);
}
