// `watchpost probe` and `smoke` pointed at a loopback DNS server with --dns-server: a dropped name
// ends at --timeout as a dns failure, an unknown one fails fast, an answered one reaches the target.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "dns_server.hpp"
#include "process.hpp"

using namespace std::chrono_literals;
using watchpost::testing::dns_server;
using watchpost::testing::run_watchpost;

TEST_CASE("probe --dns-server: a dropped name ends at --timeout as dns") {
  dns_server server({"ok.test"}, {"slow.test"});
  auto r = run_watchpost(
      {"probe", "http://slow.test:9/health", "--timeout", "1s", "--dns-server", server.address()});
  CHECK(r.exit_code == 1);
  // The resolver reports the time it waited, within 50 ms of the budget on a busy machine: less
  // (the probe's clock started first) or more (a late timer).
  CHECK_THAT(
      r.out,
      Catch::Matches(
          "(.|\n)*FAIL dns: resolving 'slow.test' timed out after (1s|1\\.0[1-9]s|9[5-9]0ms)\n(.|\n)*"));
#if defined(WATCHPOST_SANITIZED)
  CHECK(r.wall <= 1500ms);  // the sanitizers slow process start and exit several times
#else
  CHECK(r.wall <= 1100ms);  // the bound, process start included
#endif
}

TEST_CASE("probe --dns-server: an answered name reaches the target, an unknown one fails fast") {
  watchpost::testing::test_target target;
  dns_server server({"ok.test"}, {});
  const std::string port = std::to_string(target.http_port());
  auto r = run_watchpost({"probe", "http://ok.test:" + port + "/health", "--dns-server", server.address()});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("-> HTTP/1.1 200 OK"));

  r = run_watchpost({"probe", "http://nope.test:" + port + "/health", "--dns-server", server.address()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("FAIL dns: cannot resolve 'nope.test': Domain name not found"));
  CHECK(r.wall < 2s);

  r = run_watchpost({"probe", "http://ok.test:" + port + "/health", "--dns-server", "ns.example:53"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--dns-server: DNS server 'ns.example:53' must be IP[:PORT]"));
}

TEST_CASE("smoke --dns-server resolves the suite's host through the given server") {
  watchpost::testing::test_target target;
  dns_server server({"ok.test"}, {});
  const std::string suite = "/tmp/watchpost-dns-smoke-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(suite)
      << "name: dns\nbase_url: http://ok.test:" << target.http_port()
      << "\nchecks:\n  - name: health\n    request: GET /health\n    expect: { status: 200 }\n";
  auto r = run_watchpost({"smoke", suite, "--dns-server", server.address()});
  CHECK(r.exit_code == 0);
  CHECK(server.queries("ok.test") >= 1);
  std::remove(suite.c_str());
}
