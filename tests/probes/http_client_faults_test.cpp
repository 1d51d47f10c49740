// The probe client against servers that misbehave or merely surprise: interim responses,
// idle keep-alive closes, credentials across redirects, hostile chunked framing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "client_fixture.hpp"
#include "watchpost/probes/http_client.hpp"

using namespace std::chrono_literals;
using namespace watchpost::probes;
using namespace watchpost::probes_test;
using watchpost::testing::test_target;

namespace {

// A loopback server on its own thread that answers the n-th connection's request with the n-th
// canned reply (the last one repeats), then closes. It records each request head it read.
// "{port}" in a reply becomes the server's port (for absolute redirects back to it).
class scripted_server {
 public:
  explicit scripted_server(std::vector<std::string> replies) : replies_(std::move(replies)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_fd_, 16) != 0)
      throw std::runtime_error("scripted_server: cannot listen on 127.0.0.1");
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    for (auto& reply : replies_)
      if (auto at = reply.find("{port}"); at != std::string::npos)
        reply.replace(at, 6, std::to_string(port_));
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_server() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (std::size_t served = 0; !stop_;) {
      pollfd listener{listen_fd_, POLLIN, 0};
      if (::poll(&listener, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string head;
      char buf[4096];
      for (int rounds = 0; rounds < 40 && head.find("\r\n\r\n") == std::string::npos; ++rounds) {
        pollfd c{fd, POLLIN, 0};  // bounded: 40 x 50 ms
        if (::poll(&c, 1, 50) <= 0) continue;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      const std::string& reply = replies_[std::min(served++, replies_.size() - 1)];
      [[maybe_unused]] auto written = ::write(fd, reply.data(), reply.size());
      ::close(fd);
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(head));
    }
  }

  std::vector<std::string> replies_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

struct step {
  request req;
  std::chrono::milliseconds pause_before{0};
};
struct sequence_outcome {
  std::vector<result> results;
  std::size_t connections_opened = 0;
};

// Sends the steps in turn on one client, so on one keep-alive connection while the server keeps it.
sequence_outcome send_in_turn(const client_options& options, const std::vector<step>& steps) {
  boost::asio::io_context io;
  http_client client(io.get_executor(), options);
  sequence_outcome out;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (const auto& s : steps) {
          boost::asio::steady_timer pause(io, s.pause_before);
          co_await pause.async_wait(boost::asio::use_awaitable);
          out.results.push_back(co_await client.send(s.req));
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  out.connections_opened = client.connections_opened();
  return out;
}

request with_credentials(request req) {
  req.headers = {{"Authorization", "Bearer sekret"},
                 {"Cookie", "session=abc"},
                 {"Proxy-Authorization", "Basic cHJveHk="},
                 {"X-Trace", "kept"}};
  return req;
}

const std::string interim_103 = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
const std::string final_200 = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone";

}  // namespace

TEST_CASE("interim 1xx responses are skipped and the final response is the result") {
  for (const char* query : {"code=103&then=503", "code=100&then=200", "code=102&count=3&then=404",
                            "code=103&count=10&then=200"}) {
    INFO(query);
    auto res = fetch(get(target().http_url("/interim?" + std::string(query))), fast());
    REQUIRE(res.ok());
    const std::string final_status = std::string(query).substr(std::string(query).find("then=") + 5);
    CHECK(res.status == std::stoi(final_status));
    CHECK(res.body == "final " + final_status + "\n");
    CHECK_FALSE(res.header("Link"));  // the 103's headers are not the final response's
  }
}

TEST_CASE("after interim responses the next request on the connection gets its own response") {
  const auto out = send_in_turn(
      fast(), {{get(target().http_url("/interim?code=103&then=503"))}, {get(target().http_url("/health"))}});
  REQUIRE(out.results.size() == 2);
  CHECK(out.results[0].status == 503);
  REQUIRE(out.results[1].ok());
  CHECK(out.results[1].status == 200);
  CHECK_THAT(out.results[1].body, Catch::Contains("\"status\":\"ok\""));
  CHECK(out.results[1].connection_reused);
  CHECK(out.connections_opened == 1);
}

TEST_CASE("more than 10 interim responses are a protocol failure") {
  std::string eleven;
  for (int i = 0; i < 11; ++i) eleven += interim_103;
  scripted_server server({eleven + final_200});
  auto res = fetch(get(server.url("/")), fast());
  CHECK(res.failure == failure_kind::protocol);
  CHECK_THAT(res.error, Catch::Contains("more than 10 interim"));

  scripted_server ten_then_final({[] {
    std::string ten;
    for (int i = 0; i < 10; ++i) ten += interim_103;
    return ten + final_200;
  }()});
  res = fetch(get(ten_then_final.url("/")), fast());
  REQUIRE(res.ok());
  CHECK(res.body == "done");
}

TEST_CASE("101 Switching Protocols without an upgrade request is a protocol failure") {
  auto res = fetch(get(target().http_url("/switching")), fast());
  CHECK(res.failure == failure_kind::protocol);
  CHECK(res.status == 101);
  CHECK_THAT(res.error, Catch::Contains("without an upgrade request"));
  CHECK(res.timings.total < 1s);  // the server holds the connection: the client does not wait on it

  // Asked for, 101 is the answer; the connection is not reused afterwards.
  auto upgrade = get(target().http_url("/switching"));
  upgrade.headers = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}};
  const auto out = send_in_turn(fast(), {{upgrade}, {get(target().http_url("/health"))}});
  REQUIRE(out.results[0].ok());
  CHECK(out.results[0].status == 101);
  CHECK(out.results[1].status == 200);
  CHECK(out.connections_opened == 2);
}

TEST_CASE("an idle keep-alive close is reconnected and resent once for idempotent methods", "[io]") {
  test_target short_idle({"--idle-timeout", "300ms"});
  auto opts = fast();
  opts.tls.ca_file = short_idle.cert_file();
  for (const auto& health : {short_idle.http_url("/health"), short_idle.https_url("/health")}) {
    INFO(health);
    const auto out = send_in_turn(opts, {{get(health)}, {get(health), 500ms}, {get(health), 50ms}});
    REQUIRE(out.results[1].ok());
    CHECK(out.results[1].status == 200);
    CHECK(out.results[1].reconnects == 1);
    CHECK_FALSE(out.results[1].connection_reused);
    CHECK(out.results[1].timings.total < 1s);
    // Within the idle timeout the connection is reused without a reconnect.
    CHECK(out.results[2].ok());
    CHECK(out.results[2].connection_reused);
    CHECK(out.results[2].reconnects == 0);
    CHECK(out.connections_opened == 2);
  }
}

TEST_CASE("a POST on an idle-closed keep-alive connection is a reset, not resent") {
  test_target short_idle({"--idle-timeout", "300ms"});
  auto post = get(short_idle.http_url("/echo"));
  post.method = "POST";
  post.body = "once";
  const auto out = send_in_turn(fast(), {{get(short_idle.http_url("/health"))}, {post, 500ms}});
  CHECK(out.results[1].failure == failure_kind::reset);
  CHECK_THAT(out.results[1].error, Catch::Contains("closed the idle keep-alive connection") &&
                                       Catch::Contains("POST is not idempotent"));
  CHECK(out.results[1].reconnects == 0);
  CHECK(out.connections_opened == 1);
}

TEST_CASE("a redirect to another origin drops Authorization, Cookie and Proxy-Authorization") {
  // http://127.0.0.1:P -> https://127.0.0.1:S: scheme and port change.
  test_target redirecting({"--redirect-plain"});
  auto opts = fast();
  opts.max_redirects = 1;
  opts.tls.ca_file = redirecting.cert_file();
  auto res = fetch(with_credentials(get(redirecting.http_url("/headers"))), opts);
  REQUIRE(res.ok());
  CHECK(res.redirects_followed == 1);
  CHECK_THAT(res.effective_url, Catch::StartsWith("https://"));
  CHECK_THAT(res.body, Catch::Contains("\"x-trace\":\"kept\""));
  for (const char* dropped : {"authorization", "cookie", "sekret", "session=abc"})
    CHECK_THAT(res.body, !Catch::Contains(dropped));
}

TEST_CASE("a redirect to another host drops credentials, one to the same origin keeps them") {
  const auto redirect_to = [](const std::string& location) {
    return "HTTP/1.1 302 Found\r\nLocation: " + location +
           "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  };
  auto opts = fast();
  opts.max_redirects = 1;
  for (const bool same_origin : {true, false}) {
    INFO("same origin: " << same_origin);
    // 127.0.0.1 -> localhost changes only the host.
    scripted_server server({redirect_to(same_origin ? "/next" : "http://localhost:{port}/next"), final_200});
    auto res = fetch(with_credentials(get(server.url("/first"))), opts);
    REQUIRE(res.ok());
    CHECK(res.redirects_followed == 1);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK_THAT(requests[0], Catch::Contains("Authorization: Bearer sekret"));
    CHECK_THAT(requests[1], Catch::StartsWith("GET /next ") && Catch::Contains("X-Trace: kept"));
    for (const char* credential :
         {"Authorization: Bearer sekret", "Cookie: session=abc", "Proxy-Authorization: "}) {
      if (same_origin)
        CHECK_THAT(requests[1], Catch::Contains(credential));
      else
        CHECK_THAT(requests[1], !Catch::Contains(credential));
    }
  }
}

TEST_CASE("an endless chunk extension is a protocol failure, long before the deadline") {
  auto res = fetch(get(target().http_url("/hostile/chunk-ext-endless")), fast(3000ms));
  CHECK(res.failure == failure_kind::protocol);
  CHECK(res.status == 200);
  CHECK_THAT(res.error, Catch::Contains("chunk-size line or the trailers exceed"));
  CHECK(res.timings.total < 2s);
}

TEST_CASE("a chunk extension over 4 KiB is a protocol failure, a short one is read past") {
  const auto chunked_with = [](const std::string& extension) {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4;" + extension +
           "\r\ndone\r\n0\r\n\r\n";
  };
  scripted_server short_extension({chunked_with("name=value")});
  auto res = fetch(get(short_extension.url("/")), fast());
  REQUIRE(res.ok());
  CHECK(res.body == "done");

  scripted_server long_extension({chunked_with("name=" + std::string(5000, 'v'))});
  res = fetch(get(long_extension.url("/")), fast());
  CHECK(res.failure == failure_kind::protocol);
  CHECK_THAT(res.error, Catch::Contains("chunk extension malformed or over 4096 bytes"));
}

TEST_CASE("endless trailers are a protocol failure, long before the deadline") {
  auto res = fetch(get(target().http_url("/hostile/endless-trailers")), fast(3000ms));
  CHECK(res.failure == failure_kind::protocol);
  CHECK_THAT(res.error, Catch::Contains("chunk-size line or the trailers exceed"));
  CHECK(res.timings.total < 2s);
}

TEST_CASE("endless headers are a protocol failure at the header limit") {
  auto opts = fast(3000ms);
  opts.max_header_bytes = 8 * 1024;
  auto res = fetch(get(target().http_url("/hostile/endless-headers")), opts);
  CHECK(res.failure == failure_kind::protocol);
  CHECK_THAT(res.error, Catch::Contains("headers exceed 8192 bytes"));
  CHECK(res.timings.total < 2s);
}

TEST_CASE("an unparseable chunk size and an endless body end at once") {
  auto res = fetch(get(target().http_url("/hostile/chunk-huge")), fast());
  CHECK(res.failure == failure_kind::protocol);
  CHECK(res.timings.total < 2s);
  // Content-Length 10^12 is over the body cap before a byte of it is read.
  res = fetch(get(target().http_url("/hostile/endless-body")), fast());
  CHECK(res.failure == failure_kind::body_too_large);
  CHECK(res.timings.total < 2s);
}
