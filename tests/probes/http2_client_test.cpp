// HTTP/2 in the probe client against real peers on loopback: nginx (h2 by ALPN on TLS, and a
// TLS listener without h2), nghttpd (h2c with prior knowledge), and a misbehaving nghttp2 server
// for the faults real peers do not produce on demand.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "agent_fixture.hpp"
#include "client_fixture.hpp"
#include "h2_misbehaver.hpp"
#include "h2_peers.hpp"
#include "watchpost/probes/http_client.hpp"
#include "watchpost/probes/suite.hpp"

using namespace std::chrono_literals;
using namespace watchpost;
using namespace watchpost::probes;
using namespace watchpost::probes_test;
using watchpost::testing::nghttpd_peer;
using watchpost::testing::nginx_peer;

namespace {

// nginx in a directory of its own, with a fresh certificate the client is told to trust.
struct nginx_server {
  std::string dir;
  nginx_peer peer;
  nginx_server(const std::string& name, bool http2, const std::string& extra = "")
      : dir(certified_dir(name)),
        peer(agent_test::require_installed("/usr/sbin/nginx", "nginx-light"), dir, http2, extra) {}
  static std::string certified_dir(const std::string& name) {
    std::string d = agent_test::temp_dir(name);
    agent_test::make_test_certificate(d);
    return d;
  }
  client_options client(http_version version) const {
    client_options o = fast();
    o.tls.ca_file = dir + "/cert.pem";
    o.version = version;
    return o;
  }
};

nginx_server& nginx_h2() {
  static nginx_server s("h2-nginx", true, "    location = /reset { return 444; }\n");
  return s;
}

nginx_server& nginx_h1() {
  static nginx_server s("h1-nginx", false);
  return s;
}

result over_h2c(h2_fault fault, client_options o = fast()) {
  h2_misbehaver server(fault);
  o.version = http_version::v2;
  return fetch(get("http://127.0.0.1:" + std::to_string(server.port()) + "/"), o);
}

}  // namespace

TEST_CASE("h2 by ALPN against nginx: protocol, ALPN, status, body and ordered phases") {
  auto& nginx = nginx_h2();
  for (const auto version : {http_version::auto_, http_version::v2}) {
    const auto res = fetch(get(nginx.peer.url("/health")), nginx.client(version));
    INFO(res.error);
    REQUIRE(res.ok());
    CHECK(res.protocol == http_version::v2);
    CHECK(res.tls.alpn == "h2");
    CHECK(res.status == 200);
    CHECK(res.reason.empty());
    CHECK(res.body == "{\"status\":\"ok\"}");
    REQUIRE(res.header("content-type"));
    CHECK(*res.header("Content-Type") == "application/json");
    CHECK(res.timings.connect > 0ns);
    CHECK(res.timings.tls > 0ns);
    CHECK(res.timings.ttfb > 0ns);
    CHECK(res.timings.connect + res.timings.tls + res.timings.ttfb + res.timings.transfer <=
          res.timings.total);
  }
}

TEST_CASE(
    "version 1.1 offers only http/1.1 to an h2 server, and a server without h2 gets HTTP/1.1 for version 2") {
  const auto forced = fetch(get(nginx_h2().peer.url("/health")), nginx_h2().client(http_version::v1_1));
  REQUIRE(forced.ok());
  CHECK(forced.protocol == http_version::v1_1);
  CHECK(forced.tls.alpn == "http/1.1");
  CHECK(forced.status == 200);

  const auto fallback = fetch(get(nginx_h1().peer.url("/health")), nginx_h1().client(http_version::v2));
  INFO(fallback.error);
  REQUIRE(fallback.ok());
  CHECK(fallback.protocol == http_version::v1_1);
  CHECK(fallback.status == 200);
  CHECK(fallback.body == "{\"status\":\"ok\"}");
}

TEST_CASE("an h2 connection carries the next requests - a request's own version overrides the client's") {
  boost::asio::io_context io;
  http_client client(io.get_executor(), nginx_h2().client(http_version::auto_));
  std::vector<result> results;
  auto one = [&](std::optional<http_version> version) {
    auto req = get(nginx_h2().peer.url("/health"));
    req.version = version;
    boost::asio::co_spawn(io, client.send(req), [&](std::exception_ptr e, result r) {
      if (e) std::rethrow_exception(e);
      results.push_back(std::move(r));
    });
    io.restart();
    io.run();
  };
  one(std::nullopt);
  one(std::nullopt);
  one(std::nullopt);
  REQUIRE(results.size() == 3);
  for (const auto& r : results) {
    INFO(r.error);
    CHECK(r.ok());
    CHECK(r.protocol == http_version::v2);
  }
  CHECK_FALSE(results[0].connection_reused);
  CHECK(results[2].connection_reused);
  CHECK(results[2].timings.tls == 0ns);
  CHECK(client.connections_opened() == 1);
  one(http_version::v1_1);  // another version needs another connection
  REQUIRE(results.size() == 4);
  CHECK(results[3].ok());
  CHECK(results[3].protocol == http_version::v1_1);
  CHECK(client.connections_opened() == 2);
}

TEST_CASE("h2c with prior knowledge against nghttpd - auto stays HTTP/1.1 on plain http") {
  const std::string dir = agent_test::temp_dir("h2c-nghttpd");
  std::filesystem::create_directories(dir + "/htdocs");
  agent_test::write_text(dir + "/htdocs/health", "{\"status\":\"ok\"}");
  nghttpd_peer peer(agent_test::require_installed("/usr/sbin/nghttpd", "nghttp2-server"), dir);
  client_options o = fast();
  o.version = http_version::v2;
  const auto res = fetch(get(peer.url("/health")), o);
  INFO(res.error);
  REQUIRE(res.ok());
  CHECK(res.protocol == http_version::v2);
  CHECK_FALSE(res.tls.present);
  CHECK(res.status == 200);
  CHECK(res.body == "{\"status\":\"ok\"}");
  CHECK(res.timings.ttfb > 0ns);
  const auto missing = fetch(get(peer.url("/nope")), o);
  CHECK(missing.ok());
  CHECK(missing.status == 404);

  const auto plain = fetch(get(target().http_url("/health")), fast());
  REQUIRE(plain.ok());
  CHECK(plain.protocol == http_version::v1_1);
}

TEST_CASE("RST_STREAM, GOAWAY and h2 protocol errors are kind protocol with the h2 error code") {
  const auto reset = fetch(get(nginx_h2().peer.url("/reset")), nginx_h2().client(http_version::v2));
  CHECK(reset.failure == failure_kind::protocol);
  CHECK_THAT(reset.error, Catch::StartsWith("RST_STREAM "));

  const auto refused = over_h2c(h2_fault::refuse_stream);
  CHECK(refused.failure == failure_kind::protocol);
  CHECK(refused.error == "RST_STREAM REFUSED_STREAM");

  const auto goaway = over_h2c(h2_fault::goaway);
  CHECK(goaway.failure == failure_kind::protocol);
  CHECK_THAT(goaway.error, Catch::StartsWith("GOAWAY ENHANCE_YOUR_CALM"));

  const auto garbage = over_h2c(h2_fault::garbage);
  CHECK(garbage.failure == failure_kind::protocol);
  CHECK_THAT(garbage.error, Catch::Contains("HTTP/2"));
}

TEST_CASE("h2 responses obey the header and body limits - silence is a timeout") {
  client_options o = fast();
  o.max_header_bytes = 16 * 1024;
  const auto headers = over_h2c(h2_fault::huge_headers, o);
  CHECK(headers.failure == failure_kind::protocol);
  CHECK(headers.error == "response headers exceed 16384 bytes");

  o = fast();
  o.max_body_bytes = 64 * 1024;
  const auto body = over_h2c(h2_fault::huge_body, o);
  CHECK(body.failure == failure_kind::body_too_large);
  CHECK(body.status == 200);

  const auto silent = over_h2c(h2_fault::silence, fast(500ms));
  CHECK(silent.failure == failure_kind::timeout);
  CHECK_THAT(silent.error, Catch::StartsWith("no response within"));
}

TEST_CASE("the same suite passes over HTTP/1.1 and HTTP/2 - protocol: and tls.alpn: assert the one used") {
  auto& nginx = nginx_h2();
  const std::string yaml = R"(
checks:
  - name: health
    request: GET /health
    expect: { status: 200, json: { "$.status": ok }, headers: { Content-Type: application/json } }
  - name: page
    request: GET /
    expect: { body: { contains: "<html" } }
  - name: h2 only
    request: GET /health
    http_version: "2"
    expect: { protocol: h2, tls: { alpn: h2 } }
)";
  for (const auto version : {http_version::v1_1, http_version::v2}) {
    auto s = parse_suite(config_file::parse(yaml, "inline.yaml"), {});
    s.version = version;
    const auto results = run_suite_on_targets(s, {nginx.peer.url("")}, nginx.client(http_version::auto_));
    REQUIRE(results[0]);
    for (const auto& c : results[0]->checks) {
      INFO(c.name << ": " << (c.failures.empty() ? "" : c.failures[0]));
      CHECK(c.passed());
      CHECK(c.response.protocol == (c.name == "h2 only" ? http_version::v2 : version));
    }
  }
  auto s = parse_suite(config_file::parse(yaml, "inline.yaml"), {});
  s.version = http_version::v1_1;
  s.checks[2].version.reset();
  const auto results = run_suite_on_targets(s, {nginx.peer.url("")}, nginx.client(http_version::auto_));
  REQUIRE(results[0]);
  const auto& failures = results[0]->checks[2].failures;
  REQUIRE(failures.size() == 2);
  CHECK(failures[0] == "tls alpn: expected h2, got http/1.1");
  CHECK(failures[1] == "protocol: expected h2, got http/1.1");
}

TEST_CASE("http_version and protocol in suite files are validated with file:line:col") {
  auto error = [](const std::string& text) -> std::string {
    try {
      parse_suite(config_file::parse(text, "inline.yaml"), {});
    } catch (const config_error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(error("http_version: 3\nchecks:\n  - request: GET /\n") ==
        "inline.yaml:1:15: http_version must be auto, \"1.1\" or \"2\", got '3'");
  CHECK_THAT(error("checks:\n  - request: GET /\n    http_version: h3\n"),
             Catch::StartsWith("inline.yaml:3:19: http_version must be"));
  CHECK_THAT(error("checks:\n  - request: GET /\n    expect: { protocol: auto }\n"),
             Catch::StartsWith("inline.yaml:3:25: protocol must be h2 or http/1.1"));
  const auto s =
      parse_suite(config_file::parse(
                      "http_version: \"1.1\"\nchecks:\n  - request: GET /\n    http_version: 2\n", "x.yaml"),
                  {});
  CHECK(s.version == http_version::v1_1);
  CHECK(s.checks[0].version == http_version::v2);
}
