// `watchpost probe` and `watchpost smoke` over HTTP/2: the real binary against Debian's nginx
// with h2 on a TLS listener.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "agent_fixture.hpp"
#include "h2_peers.hpp"
#include "watchpost/exporters/suite_report.hpp"

using watchpost::testing::nginx_peer;
using watchpost::testing::run_watchpost;
namespace agent_test = watchpost::agent_test;

namespace {

struct nginx_h2 {
  std::string dir = agent_test::temp_dir("cli-h2-nginx");
  std::string ca = (agent_test::make_test_certificate(dir), dir + "/cert.pem");
  nginx_peer peer{agent_test::require_installed("/usr/sbin/nginx", "nginx-light"), dir, true};
};

nginx_h2& nginx() {
  static nginx_h2 n;
  return n;
}

}  // namespace

TEST_CASE("probe --http2 against nginx prints HTTP/2 and the phase timings") {
  auto r = run_watchpost({"probe", "--http2", nginx().peer.url("/health"), "--ca-file", nginx().ca});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("-> HTTP/2 200\n"));
  for (auto phase : {"resolve", "connect", "tls", "ttfb", "transfer", "total"})
    CHECK_THAT(r.out, Catch::Contains(phase));

  auto forced = run_watchpost({"probe", "--http1.1", nginx().peer.url("/health"), "--ca-file", nginx().ca});
  CHECK(forced.exit_code == 0);
  CHECK_THAT(forced.out, Catch::Contains("-> HTTP/1.1 200 OK"));

  auto json = run_watchpost({"probe", nginx().peer.url("/health"), "--ca-file", nginx().ca, "--json"});
  REQUIRE(json.exit_code == 0);
  const auto o = boost::json::parse(json.out).as_object();
  CHECK(o.at("protocol") == "HTTP/2");
  CHECK(o.at("tls").as_object().at("alpn") == "h2");

  auto both = run_watchpost({"probe", "--http2", "--http1.1", nginx().peer.url("/health")});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Catch::Contains("--http2 or --http1.1"));
}

TEST_CASE("smoke: the same suite passes with --http1.1 and --http2, and the report names the protocol") {
  const std::string suite = nginx().dir + "/suite.yaml";
  agent_test::write_text(suite, R"(name: h2 smoke
checks:
  - name: health
    request: GET /health
    expect: { status: 200, json: { "$.status": ok } }
  - name: page
    request: GET /
    expect: { body: { contains: "<html" } }
)");
  using watchpost::probes::http_version;
  for (const auto& [flag, protocol] :
       {std::pair{"--http1.1", http_version::v1_1}, std::pair{"--http2", http_version::v2}}) {
    const std::string report = nginx().dir + "/report.json";
    auto r = run_watchpost({"smoke", suite, flag, "--base-url", nginx().peer.url(""), "--ca-file", nginx().ca,
                            "--json", report});
    INFO(flag << "\n" << r.out << r.err);
    CHECK(r.exit_code == 0);
    const auto run = watchpost::exporters::read_suite_report_file(report);
    REQUIRE(run.targets.size() == 1);
    REQUIRE(run.targets[0].result);
    for (const auto& c : run.targets[0].result->checks) CHECK(c.response.protocol == protocol);
  }
}
