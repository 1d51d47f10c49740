// The test target's HTTP/2, checked by real peers from Debian's nghttp2-client (nghttp, h2load)
// and curl: ALPN h2 on TLS, h2c prior knowledge on plain, HTTP/1.1 still served on both ports,
// and each h2 fault seen by the peer as what it is.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "process.hpp"

using namespace std::chrono_literals;
using watchpost::testing::command_result;
using watchpost::testing::run_program;
using watchpost::testing::test_target;

namespace {

constexpr auto tool_timeout = 20s;

command_result peer(const std::string& tool, const std::vector<std::string>& args) {
  const std::string path = "/usr/bin/" + tool;
  INFO(tool << " missing: scripts/install-deps.sh --test installs nghttp2-client and curl");
  REQUIRE(std::filesystem::exists(path));
  auto r = run_program(path, args, {}, tool_timeout);
  UNSCOPED_INFO(tool << " exit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  return r;
}

// nghttp -nv: frames on stdout; "Some requests were not processed" on stderr.
command_result nghttp(const std::vector<std::string>& args) {
  std::vector<std::string> all{"-nv", "--timeout=5"};
  all.insert(all.end(), args.begin(), args.end());
  return peer("nghttp", all);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The sum of the DATA frame lengths nghttp -v says it sent.
std::size_t data_sent(const std::string& log) {
  static const std::string mark = "send DATA frame <length=";
  std::size_t total = 0;
  for (auto at = log.find(mark); at != std::string::npos; at = log.find(mark, at + 1))
    total += std::stoul(log.substr(at + mark.size()));
  return total;
}

std::string file_of(std::size_t bytes) {
  const auto path = std::filesystem::temp_directory_path() / ("h2-target-body-" + std::to_string(getpid()));
  std::ofstream(path, std::ios::binary) << std::string(bytes, 'x');
  return path.string();
}

}  // namespace

TEST_CASE("h2: nghttp negotiates h2 by ALPN on the TLS port and h2c with prior knowledge on plain", "[h2]") {
  test_target target;
  // Without -n: the body is printed too.
  const auto tls = peer("nghttp", {"-v", "--timeout=5", target.https_url("/health")});
  CHECK(tls.exit_code == 0);
  CHECK(tls.out.find("The negotiated protocol: h2") != std::string::npos);
  CHECK(tls.out.find(":status: 200") != std::string::npos);
  CHECK(tls.out.find(R"("status":"ok")") != std::string::npos);

  const auto plain = peer("nghttp", {"-v", "--timeout=5", target.http_url("/health")});
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find(":status: 200") != std::string::npos);
  CHECK(plain.out.find(R"("status":"ok")") != std::string::npos);
  CHECK(plain.out.find("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]") != std::string::npos);
}

TEST_CASE("h2: h2load runs 1000 requests on 4 connections with 10 streams each without an error", "[h2]") {
  test_target target;
  for (const auto& url : {target.https_url("/health"), target.http_url("/health")}) {
    const auto r = peer("h2load", {"-n", "1000", "-c", "4", "-m", "10", url});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("1000 succeeded, 0 failed, 0 errored, 0 timeout") != std::string::npos);
    CHECK(r.out.find("status codes: 1000 2xx") != std::string::npos);
    CHECK(r.out.find(url.starts_with("https") ? "Application protocol: h2\n"
                                              : "Application protocol: h2c\n") != std::string::npos);
  }
}

TEST_CASE("h2: HTTP/1.1 is still served on both ports, and --no-h2 negotiates it", "[h2]") {
  const std::vector<std::string> version = {"-s",        "-k", "-o",
                                            "/dev/null", "-w", "%{http_code} %{http_version}"};
  auto curl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), version.begin(), version.end());
    return peer("curl", args).out;
  };
  test_target target;
  CHECK(curl({"--http1.1", target.http_url("/health")}) == "200 1.1");
  CHECK(curl({"--http1.1", target.https_url("/health")}) == "200 1.1");  // ALPN offers http/1.1 only
  CHECK(curl({"--http2", target.https_url("/health")}) == "200 2");
  CHECK(curl({"--http2-prior-knowledge", target.http_url("/health")}) == "200 2");
  // A request that starts like the preface ("P") is still HTTP/1.1.
  const auto echo = peer("curl", {"-s", "--http1.1", "--data", "hello", target.http_url("/echo")});
  CHECK(echo.out == "hello");

  test_target h1_only({"--no-h2"});
  CHECK(curl({"--http2", h1_only.https_url("/health")}) == "200 1.1");
  CHECK(curl({"--http1.1", h1_only.http_url("/health")}) == "200 1.1");
}

TEST_CASE("h2: --h2-goaway-after 2 sends GOAWAY with the second stream as the last, and refuses the third",
          "[h2]") {
  test_target target({"--no-tls", "--h2-goaway-after", "2"});
  const auto r = nghttp({"-m", "3", target.http_url("/health")});
  CHECK(r.out.find("recv GOAWAY frame") != std::string::npos);
  CHECK(r.out.find("error_code=NO_ERROR(0x00)") != std::string::npos);
  CHECK(count(r.out, ":status: 200") == 2);
  CHECK(r.err.find("processed=2") != std::string::npos);
}

TEST_CASE("h2: /reset sends RST_STREAM with its error code after the head and 10 body bytes", "[h2]") {
  test_target target({"--no-tls"});
  const auto cancel = nghttp({target.http_url("/reset?code=8")});
  CHECK(cancel.out.find(":status: 200") != std::string::npos);
  CHECK(cancel.out.find("recv DATA frame <length=10, flags=0x00") != std::string::npos);
  CHECK(cancel.out.find("recv RST_STREAM frame") != std::string::npos);
  CHECK(cancel.out.find("error_code=CANCEL(0x08)") != std::string::npos);

  const auto fallback = nghttp({target.http_url("/reset")});
  CHECK(fallback.out.find("error_code=INTERNAL_ERROR(0x02)") != std::string::npos);

  const auto bad = nghttp({target.http_url("/reset?code=14")});
  CHECK(bad.out.find(":status: 400") != std::string::npos);
}

TEST_CASE("h2: --h2-max-streams 1 advertises SETTINGS_MAX_CONCURRENT_STREAMS 1 and h2load keeps to it",
          "[h2]") {
  test_target target({"--no-tls", "--h2-max-streams", "1"});
  const auto r = nghttp({target.http_url("/health")});
  CHECK(r.out.find("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):1]") != std::string::npos);
  const auto load = peer("h2load", {"-n", "200", "-c", "2", "-m", "1", target.http_url("/health")});
  CHECK(load.out.find("200 succeeded, 0 failed, 0 errored, 0 timeout") != std::string::npos);
}

TEST_CASE("h2: /stall-window never credits the upload: the client's window runs out at 65535 bytes", "[h2]") {
  test_target target({"--no-tls"});
  const std::string body = file_of(200'000);
  // nghttp gives up after -t 2 s without progress.
  const auto stalled = peer("nghttp", {"-nv", "-t", "2", "-d", body, target.http_url("/stall-window")});
  CHECK(data_sent(stalled.out) == 65535);  // the initial connection window, never updated
  CHECK(stalled.out.find("recv WINDOW_UPDATE") == std::string::npos);
  CHECK(stalled.err.find("processed=0") != std::string::npos);

  // The same upload elsewhere is credited and answered.
  const auto echoed = nghttp({"-d", body, target.http_url("/echo")});
  CHECK(echoed.out.find("recv WINDOW_UPDATE") != std::string::npos);
  CHECK(echoed.out.find(":status: 200") != std::string::npos);
  CHECK(data_sent(echoed.out) == 200'000);
  std::filesystem::remove(body);
}

TEST_CASE("h2: HTTP/1.1 fault routes in h2 terms (interim HEADERS, HTTP_1_1_REQUIRED, garbage)", "[h2]") {
  test_target target({"--no-tls"});
  const auto interim = nghttp({target.http_url("/interim?code=103&count=2&then=503")});
  CHECK(count(interim.out, ":status: 103") == 2);
  CHECK(count(interim.out, "link: </style.css>; rel=preload") == 2);
  CHECK(interim.out.find(":status: 503") != std::string::npos);

  const auto hostile = nghttp({target.http_url("/hostile/two-cl")});
  CHECK(hostile.out.find("error_code=HTTP_1_1_REQUIRED(0x0d)") != std::string::npos);

  const auto garbage = peer("h2load", {"-n", "1", target.http_url("/garbage")});
  CHECK(garbage.out.find("0 succeeded, 1 failed, 1 errored") != std::string::npos);
}

namespace {

// A raw h2c connection: the preface and an empty SETTINGS, then only reading.
class raw_h2c {
 public:
  explicit raw_h2c(std::uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string hello =
        std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9);
    REQUIRE(send(fd_, hello.data(), hello.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(hello.size()));
  }
  ~raw_h2c() { close(fd_); }
  raw_h2c(const raw_h2c&) = delete;
  raw_h2c& operator=(const raw_h2c&) = delete;

  // Everything until the server closes (true) or `timeout` passes (false).
  bool read_until_closed(std::string& got, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0ms || poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

// The frame types in `bytes`, in order.
std::vector<int> frame_types(const std::string& bytes) {
  std::vector<int> types;
  for (std::size_t at = 0; at + 9 <= bytes.size();) {
    const auto u = [&](std::size_t i) {
      return static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + i]));
    };
    types.push_back(static_cast<int>(u(3)));
    at += 9 + (u(0) << 16 | u(1) << 8 | u(2));
  }
  return types;
}

}  // namespace

TEST_CASE("h2: an idle h2 connection ends with GOAWAY after --idle-timeout", "[h2]") {
  test_target target({"--no-tls", "--idle-timeout", "300ms"});
  raw_h2c connection(target.http_port());
  std::string got;
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(connection.read_until_closed(got, 5s));
  CHECK(std::chrono::steady_clock::now() - start >= 250ms);
  constexpr int settings = 0x4, goaway = 0x7;
  const auto types = frame_types(got);
  REQUIRE_FALSE(types.empty());
  CHECK(types.front() == settings);
  CHECK(types.back() == goaway);
}
