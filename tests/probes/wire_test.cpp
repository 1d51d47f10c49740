// The wire module both HTTP clients use: request bytes and the TLS peer name, without sockets;
// then the probe client's path through it (the load engine's is in tests/loadgen).
#include "watchpost/probes/wire.hpp"

#include <catch2/catch.hpp>

#include "watchpost/probes/http_client.hpp"

using namespace watchpost::probes;

namespace {

std::string serialized(std::string_view method, std::string_view target, const header_list& headers,
                       std::string_view body, const wire_options& options = {}) {
  std::string out = "left over";
  REQUIRE(serialize_request(method, target, headers, body, "example.test:8080", options, out));
  return out;
}

bool frames(std::string_view method, std::string_view target, const header_list& headers) {
  std::string out;
  return serialize_request(method, target, headers, "", "example.test", {}, out);
}

}  // namespace

TEST_CASE("serialize_request writes the request line, Host, the headers, Content-Length and the body") {
  CHECK(serialized("GET", "/a?b=1", {{"Accept", "*/*"}}, "") ==
        "GET /a?b=1 HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\n\r\n");
  CHECK(serialized("POST", "/echo", {}, "{}") ==
        "POST /echo HTTP/1.1\r\nHost: example.test:8080\r\nContent-Length: 2\r\n\r\n{}");
  // A method that carries a body says so even when it is empty (some servers answer 411).
  CHECK(serialized("PUT", "/", {}, "") ==
        "PUT / HTTP/1.1\r\nHost: example.test:8080\r\nContent-Length: 0\r\n\r\n");
  // The request's own Host, User-Agent, Content-Length and Connection win.
  CHECK(serialized("POST", "/", {{"host", "other"}, {"Content-Length", "1"}, {"Connection", "keep-alive"}},
                   "x", {false, "watchpost/0.1"}) ==
        "POST / HTTP/1.1\r\nUser-Agent: watchpost/0.1\r\nhost: other\r\nContent-Length: 1\r\nConnection: "
        "keep-alive\r\n\r\nx");
  CHECK(serialized("GET", "/", {}, "", {false, "ua"}) ==
        "GET / HTTP/1.1\r\nHost: example.test:8080\r\nUser-Agent: ua\r\nConnection: close\r\n\r\n");
}

TEST_CASE("serialize_request refuses what would break the framing") {
  CHECK(frames("GET", "/", {{"X", "ok"}}));
  CHECK_FALSE(frames("GET", "/", {{"X", "a\r\nInjected: 1"}}));
  CHECK_FALSE(frames("GET", "/", {{"X", "a\nb"}}));
  CHECK_FALSE(frames("GET", "/", {{"X\r\nY", "a"}}));
  CHECK_FALSE(frames("GET", "/", {{"", "a"}}));
  CHECK_FALSE(frames("GET /x", "/", {}));
  CHECK_FALSE(frames("GET\r\n", "/", {}));
  CHECK_FALSE(frames("", "/", {}));
  CHECK_FALSE(frames("GET", "/a b", {}));
  CHECK_FALSE(frames("GET", "/\r\nX: 1", {}));
}

TEST_CASE("tls_peer tells a host name (SNI and name check) from an IP literal (address check only)") {
  CHECK_FALSE(tls_peer("example.test").is_ip());
  CHECK(tls_peer("127.0.0.1").is_ip());
  CHECK(tls_peer("::1").is_ip());
  CHECK(tls_peer("example.test").host() == "example.test");
}

TEST_CASE("the probe client fails a request with a line break in a header as protocol, sending nothing") {
  request req;
  req.target = std::get<url>(parse_url("http://127.0.0.1:9/"));  // nothing is sent, so no listener needed
  req.headers = {{"X-Token", "a\r\nInjected: 1"}};
  const result r = fetch(req, client_options{});
  CHECK(r.failure == failure_kind::protocol);
  CHECK_THAT(r.error, Catch::Contains("line break"));
  CHECK(r.timings.connect == watchpost::nanoseconds{0});
}
