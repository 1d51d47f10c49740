#include "watchpost/probes/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "client_fixture.hpp"

using namespace std::chrono_literals;
using namespace watchpost::probes;
using namespace watchpost::probes_test;
using watchpost::testing::test_target;

namespace {

// A TCP socket bound to a free loopback port, listening with `backlog` unless it is negative;
// `addr` receives the address.
int loopback_socket(sockaddr_in& addr, int backlog) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  addr = sockaddr_in{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  if (backlog >= 0) REQUIRE(listen(fd, backlog) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return fd;
}

// A loopback TCP port that refuses connections: bound, then closed.
std::uint16_t closed_port() {
  sockaddr_in addr;
  close(loopback_socket(addr, -1));
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("a healthy endpoint answers with status, body and ordered phase timings", "[io]") {
  auto res = fetch(get(target().http_url("/health")), fast());
  REQUIRE(res.ok());
  CHECK(res.status == 200);
  CHECK_THAT(res.body, Catch::Contains("\"status\":\"ok\""));
  REQUIRE(res.header("content-type"));
  CHECK_THAT(*res.header("Content-Type"), Catch::Contains("application/json"));
  CHECK(res.timings.resolve == 0ns);  // IP literal: no lookup
  CHECK(res.timings.connect > 0ns);
  CHECK(res.timings.ttfb > 0ns);
  CHECK(res.timings.connect + res.timings.ttfb + res.timings.transfer <= res.timings.total);
  CHECK_FALSE(res.tls.present);
}

TEST_CASE("hostnames are resolved and timed") {
  auto res = fetch(get("http://localhost:" + std::to_string(target().http_port()) + "/health"), fast());
  REQUIRE(res.ok());
  CHECK(res.timings.resolve > 0ns);
}

TEST_CASE("error statuses are responses, not transport failures") {
  auto res = fetch(get(target().http_url("/status/503")), fast());
  CHECK(res.ok());
  CHECK(res.status == 503);
}

TEST_CASE("ttfb includes server think time") {
  auto res = fetch(get(target().http_url("/delay/200")), fast());
  REQUIRE(res.ok());
  CHECK(res.timings.ttfb >= 200ms);
  CHECK(res.timings.ttfb < 1s);
}

TEST_CASE("a silent server ends at the deadline, never later", "[io]") {
  auto res = fetch(get(target().http_url("/stall")), fast(300ms));
  CHECK(res.failure == failure_kind::timeout);
  CHECK(res.timings.total >= 300ms);
  CHECK(res.timings.total < 400ms);
  CHECK_THAT(res.error, Catch::Contains("no response"));
}

TEST_CASE("a slow-dripping body ends at the deadline", "[io]") {
  auto res = fetch(get(target().http_url("/drip?bytes=50&interval=100")), fast(300ms));
  CHECK(res.failure == failure_kind::timeout);
  CHECK(res.status == 200);  // headers arrived, the body did not
  CHECK(res.timings.total < 400ms);
  CHECK_THAT(res.error, Catch::Contains("body"));
}

TEST_CASE("a connection closed mid-response is a reset", "[io]") {
  auto res = fetch(get(target().http_url("/reset")), fast());
  CHECK(res.failure == failure_kind::reset);
  CHECK(res.timings.ttfb > 0ns);
}

TEST_CASE("an invalid status line is a protocol failure") {
  auto res = fetch(get(target().http_url("/garbage")), fast());
  CHECK(res.failure == failure_kind::protocol);
}

TEST_CASE("oversized headers are a protocol failure") {
  auto res = fetch(get(target().http_url("/huge-headers")), fast());
  CHECK(res.failure == failure_kind::protocol);
  CHECK_THAT(res.error, Catch::Contains("headers exceed"));
}

TEST_CASE("bodies over the cap are body_too_large, and chunked and large bodies arrive whole") {
  auto opts = fast();
  opts.max_body_bytes = 1'000'000;
  CHECK(fetch(get(target().http_url("/bytes/2000000")), opts).failure == failure_kind::body_too_large);
  auto res = fetch(get(target().http_url("/bytes/900000")), opts);
  REQUIRE(res.ok());
  CHECK(res.body.size() == 900000);
  res = fetch(get(target().http_url("/chunked/12345")), opts);
  REQUIRE(res.ok());
  CHECK(res.body.size() == 12345);
  CHECK(res.timings.transfer > 0ns);
}

TEST_CASE("request method, headers and body reach the server") {
  auto req = get(target().http_url("/echo"));
  req.method = "POST";
  req.body = "hello watchpost";
  req.headers.push_back({"Content-Type", "text/plain"});
  auto res = fetch(req, fast());
  REQUIRE(res.ok());
  CHECK(res.body == "hello watchpost");

  auto headers = get(target().http_url("/headers"));
  headers.headers.push_back({"X-Custom", "abc"});
  res = fetch(headers, fast());
  CHECK_THAT(res.body, Catch::Contains("\"x-custom\":\"abc\""));
  CHECK_THAT(res.body, Catch::Contains("watchpost/"));
}

TEST_CASE("a refused connection is a connect failure", "[io]") {
  auto res = fetch(get("http://127.0.0.1:" + std::to_string(closed_port()) + "/"), fast());
  CHECK(res.failure == failure_kind::connect);
  CHECK_THAT(res.error, Catch::Contains("refused"));
}

TEST_CASE("a server that resets the connection it accepted is a reset, not a connect failure", "[io]") {
  // The first send confirms a plain connect (no wait for writability): whether the reset beats
  // the request or the response, it follows a completed handshake.
  sockaddr_in addr;
  const int listener = loopback_socket(addr, 4);
  std::thread resetter([listener] {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) return;
    const int fd = accept(listener, nullptr, nullptr);
    const linger abort{1, 0};  // close() sends RST
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    close(fd);
  });
  boost::asio::io_context io;
  http_client client(io.get_executor(), fast());
  result res;
  // send() keeps a reference to the request: it must outlive io.run(), not just the co_spawn call.
  const request req = get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/");
  boost::asio::co_spawn(io, client.send(req), [&](std::exception_ptr, result r) { res = std::move(r); });
  io.run();
  resetter.join();
  close(listener);
  CHECK(res.failure == failure_kind::reset);
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("a full accept queue is a connect timeout", "[io]") {
  // A listener that never accepts: once its backlog is full, SYNs are dropped.
  sockaddr_in addr;
  const int listener = loopback_socket(addr, 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  auto opts = fast();
  opts.connect_timeout = 300ms;
  auto res = fetch(get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"), opts);
  CHECK(res.failure == failure_kind::connect_timeout);
  CHECK(res.timings.total < 500ms);
  for (int fd : fillers) close(fd);
  close(listener);
}

TEST_CASE("a name that cannot resolve is a dns failure") {
  // A label over 63 bytes is rejected by the stub resolver itself: no packet leaves the machine.
  auto res = fetch(get("http://" + std::string(70, 'a') + ".invalid/"), fast());
  CHECK(res.failure == failure_kind::dns);
}

TEST_CASE("TLS: verification is on by default and fails on a self-signed certificate") {
  auto res = fetch(get(target().https_url("/health")), fast());
  CHECK(res.failure == failure_kind::tls_verify);
  CHECK_THAT(res.error, Catch::Contains("certificate"));
}

TEST_CASE("TLS: --ca-file and --insecure both pass, and the certificate expiry is read") {
  auto opts = fast();
  opts.tls.ca_file = target().cert_file();
  auto res = fetch(get(target().https_url("/health")), opts);
  REQUIRE(res.ok());
  CHECK(res.status == 200);
  REQUIRE(res.tls.present);
  CHECK(res.tls.version == "TLSv1.3");
  REQUIRE(res.tls.cert_not_after);
  const auto days_left = std::chrono::duration_cast<std::chrono::hours>(*res.tls.cert_not_after -
                                                                        std::chrono::system_clock::now())
                             .count() /
                         24.0;
  CHECK(days_left > 89);
  CHECK(days_left <= 90);
  CHECK(res.timings.tls > 0ns);

  // The certificate names localhost too: SNI and host name verification.
  res = fetch(get("https://localhost:" + std::to_string(target().https_port()) + "/health"), opts);
  CHECK(res.ok());

  auto insecure = fast();
  insecure.tls.insecure = true;
  res = fetch(get(target().https_url("/health")), insecure);
  CHECK(res.ok());
  CHECK(res.tls.cert_not_after.has_value());
}

TEST_CASE("TLS: an expired certificate fails verification even when trusted") {
  test_target expired({"--cert-days", "-1"});
  auto opts = fast();
  opts.tls.ca_file = expired.cert_file();
  auto res = fetch(get(expired.https_url("/health")), opts);
  CHECK(res.failure == failure_kind::tls_verify);
  CHECK_THAT(res.error, Catch::Contains("expired"));
}

TEST_CASE("TLS: a missing CA file is a startup error") {
  client_options opts;
  opts.tls.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_WITH(make_tls_context(opts.tls), Catch::Contains("/nonexistent/ca.pem"));
  // The client loads a ca_file up front (the system store waits for the first https URL).
  boost::asio::io_context io;
  CHECK_THROWS_WITH(http_client(io.get_executor(), opts), Catch::Contains("/nonexistent/ca.pem"));
}

TEST_CASE("redirects are reported by default and followed on request") {
  auto res = fetch(get(target().http_url("/redirect/3")), fast());
  REQUIRE(res.ok());
  CHECK(res.status == 302);
  auto opts = fast();
  opts.max_redirects = 5;
  res = fetch(get(target().http_url("/redirect/3")), opts);
  REQUIRE(res.ok());
  CHECK(res.status == 200);
  CHECK(res.body == "done");
  CHECK(res.redirects_followed == 3);
  CHECK_THAT(res.effective_url, Catch::EndsWith("/redirect/0"));
}

TEST_CASE("10,000 keep-alive requests reuse one connection") {
  auto stats_accepted = [] {
    auto res = fetch(get(target().http_url("/stats")), fast());
    REQUIRE(res.ok());
    auto pos = res.body.find("\"accepted\":");
    REQUIRE(pos != std::string::npos);
    return std::stol(res.body.substr(pos + 11));
  };
  const long accepted_before = stats_accepted();

  boost::asio::io_context io;
  http_client client(io.get_executor(), fast());
  const request req = get(target().http_url("/health"));
  int ok = 0, reused = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (int i = 0; i < 10000; ++i) {
          auto res = co_await client.send(req);
          ok += res.ok() && res.status == 200;
          reused += res.connection_reused;
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  CHECK(ok == 10000);
  CHECK(reused == 9999);
  CHECK(client.connections_opened() == 1);
  // One accept for the client, one for the second /stats probe.
  CHECK(stats_accepted() - accepted_before == 2);
}

TEST_CASE("a header value with a line break is refused before anything is sent") {
  auto req = get(target().http_url("/headers"));
  req.headers.push_back({"X-Captured", "abc\r\nX-Injected: 1"});
  auto res = fetch(req, fast());
  CHECK(res.failure == failure_kind::protocol);
  CHECK(res.status == 0);
  CHECK_THAT(res.error, Catch::Contains("line break"));
}
