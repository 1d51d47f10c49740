// The test target's protocol-fault routes, seen through a raw loopback socket: the exact bytes
// each route sends and how it ends (keep-alive, close, held, endless), and --idle-timeout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "process.hpp"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

watchpost::testing::test_target& target() {
  static watchpost::testing::test_target t({"--no-tls"});
  return t;
}

// One plain TCP connection to 127.0.0.1:port.
class raw_connection {
 public:
  explicit raw_connection(std::uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~raw_connection() { close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  void get(const std::string& path) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(send(fd_, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  }

  // Reads until `want` bytes arrived, what arrived ends with `until` (when given), the peer
  // closed, or `timeout` passed.
  std::string read(std::size_t want, std::chrono::milliseconds timeout, std::string_view until = {}) {
    std::string got;
    const auto deadline = steady::now() + timeout;
    char buf[65536];
    while (got.size() < want && !closed && (until.empty() || !got.ends_with(until))) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0ms || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        closed = true;
      else
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
  std::string read_until_close(std::chrono::milliseconds timeout = 5s) { return read(SIZE_MAX, timeout); }

  bool closed = false;  // the peer closed (FIN or RST)

 private:
  int fd_;
};

const std::string final_503 = "HTTP/1.1 503 Service Unavailable\r\n";

}  // namespace

TEST_CASE("target /interim sends the interim responses, then the final one, and keeps the connection") {
  raw_connection c(target().http_port());
  c.get("/interim?code=103&count=2&then=503");
  const std::string early_hints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
  std::string got = c.read(SIZE_MAX, 2s, "final 503\n");
  REQUIRE(got.starts_with(early_hints + early_hints + final_503));
  CHECK(got.ends_with("\r\n\r\nfinal 503\n"));
  CHECK_FALSE(c.closed);
  c.get("/interim?code=100");
  got = c.read(SIZE_MAX, 2s, "final 200\n");
  CHECK(got.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
  CHECK(got.ends_with("final 200\n"));
}

TEST_CASE("target /interim rejects 101 and counts out of range") {
  for (const char* path :
       {"/interim?code=101", "/interim?count=0", "/interim?count=11", "/interim?then=199"}) {
    raw_connection c(target().http_port());
    c.get(path);
    CHECK(c.read(12, 2s).starts_with("HTTP/1.1 400 "));
  }
}

TEST_CASE("target /switching answers 101 unasked and holds the connection") {
  raw_connection c(target().http_port());
  c.get("/switching");
  CHECK(c.read(SIZE_MAX, 500ms) ==
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  CHECK_FALSE(c.closed);
}

TEST_CASE("target --idle-timeout closes only a connection idle longer than the timeout") {
  watchpost::testing::test_target idle({"--no-tls", "--idle-timeout", "500ms"});
  raw_connection busy(idle.http_port());
  for (int i = 0; i < 10; ++i) {  // 2 s of requests 200 ms apart: never idle 500 ms
    busy.get("/health");
    REQUIRE(busy.read(SIZE_MAX, 2s, "}").starts_with("HTTP/1.1 200 OK"));
    busy.read(SIZE_MAX, 200ms);  // the pause (a close would show here)
  }
  CHECK_FALSE(busy.closed);

  raw_connection paused(idle.http_port());
  paused.get("/health");
  REQUIRE(paused.read(SIZE_MAX, 2s, "}").starts_with("HTTP/1.1 200 OK"));  // the whole response
  const auto after_response = steady::now();   // the server's idle clock started before this
  CHECK(paused.read_until_close(5s).empty());  // FIN, no response bytes
  CHECK(paused.closed);
  CHECK(steady::now() - after_response >= 400ms);
  CHECK(steady::now() - after_response < 3s);
}

TEST_CASE("target /hostile routes that end by closing send their exact bytes") {
  struct row {
    const char* name;
    std::string bytes;
  };
  const std::string pattern10 = "abcdefghij";
  std::string pattern1000;
  for (int i = 0; i < 1000; ++i) pattern1000 += static_cast<char>('a' + i % 26);
  using namespace std::string_literals;
  const row rows[] = {
      {"chunk-huge", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabcdef"},
      {"cl-te",
       "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
      {"two-cl", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello"},
      {"lf-only", "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 3\nConnection: close\n\nok\n"},
      {"nul-header", "HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"s},
      {"no-reason", "HTTP/1.1 200\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"},
      {"early-close", "HTTP/1.1 200 OK\r\nContent-Le"},
      {"close-delimited", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + pattern1000},
      {"tls-truncation", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + pattern10},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    raw_connection c(target().http_port());
    c.get("/hostile/"s + r.name);
    CHECK(c.read_until_close() == r.bytes);
    CHECK(c.closed);
  }
}

TEST_CASE("target /hostile/interim-then-final is /interim with 103 then 503") {
  raw_connection c(target().http_port());
  c.get("/hostile/interim-then-final");
  const std::string got = c.read(SIZE_MAX, 2s, "final 503\n");
  CHECK(got.starts_with("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + final_503));
  CHECK(got.ends_with("final 503\n"));
}

TEST_CASE("target endless /hostile routes keep writing until the client closes") {
  struct row {
    const char* name;
    std::string head;
    std::string unit;
  };
  const row rows[] = {
      {"chunk-ext-endless", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;", "a=b;"},
      {"endless-body", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n",
       "abcdefghijklmnopqrstuvwxyz"},
      {"endless-headers", "HTTP/1.1 200 OK\r\n", "X-Pad: " + std::string(100, 'a') + "\r\n"},
      {"endless-trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", "X-T: aaaa\r\n"},
  };
  constexpr std::size_t want = 4 * 1024 * 1024;
  for (const auto& r : rows) {
    INFO(r.name);
    raw_connection c(target().http_port());
    c.get(std::string("/hostile/") + r.name);
    const std::string got = c.read(want, 10s);
    REQUIRE(got.size() >= want);
    CHECK_FALSE(c.closed);
    REQUIRE(got.starts_with(r.head));
    CHECK(got.substr(r.head.size(), 3 * r.unit.size()) == r.unit + r.unit + r.unit);
  }
}

TEST_CASE("target /hostile with an unknown name is a 404 listing the names") {
  raw_connection c(target().http_port());
  c.get("/hostile/nope");
  const std::string got = c.read(SIZE_MAX, 2s, "interim-then-final\n");
  CHECK(got.starts_with("HTTP/1.1 404 Not Found\r\n"));
  CHECK_THAT(got, Catch::Contains("chunk-ext-endless") && Catch::Contains("interim-then-final"));
}
