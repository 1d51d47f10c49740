// DNS that honours deadlines: the c-ares resolver against a loopback DNS server that answers,
// refuses or drops (the commands pointed at it with --dns-server: tests/cli/dns_cli_test.cpp).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "dns_server.hpp"
#include "process.hpp"
#include "watchpost/probes/dns_resolver.hpp"

using namespace std::chrono_literals;
using namespace watchpost;
using watchpost::testing::dns_server;

namespace {

struct timed_outcome {
  probes::resolve_outcome outcome;
  nanoseconds took{0};
  bool finished = false;
};

// Starts a lookup on io; fills `out` when it returns.
void spawn_lookup(boost::asio::io_context& io, probes::dns_resolver& resolver, const std::string& host,
                  nanoseconds budget, timed_outcome& out) {
  const auto started = monotonic_clock::now();
  boost::asio::co_spawn(io, resolver.resolve(host, 8080, started + budget),
                        [&out, started](std::exception_ptr e, probes::resolve_outcome r) {
                          REQUIRE(!e);
                          out = {std::move(r), monotonic_clock::now() - started, true};
                        });
}

probes::resolver_options options_for(const dns_server& server, nanoseconds cache_ttl = nanoseconds{0}) {
  probes::resolver_options o;
  o.servers = server.address();
  o.try_timeout = 250ms;
  o.cache_ttl = cache_ttl;
  return o;
}

}  // namespace

TEST_CASE("answered names resolve in milliseconds while a dropped one waits for its deadline") {
  dns_server server({"ok.test", "also.test"}, {"slow.test"});
  boost::asio::io_context io;
  probes::dns_resolver resolver(io.get_executor(), options_for(server));
  timed_outcome slow, ok, also;
  spawn_lookup(io, resolver, "slow.test", 1s, slow);
  spawn_lookup(io, resolver, "ok.test", 1s, ok);
  spawn_lookup(io, resolver, "also.test", 1s, also);
  const auto started = monotonic_clock::now();
  io.run();
  // The abandoned query is cancelled, so the loop ends at the deadline, not at c-ares' last retry.
  CHECK(monotonic_clock::now() - started < 1300ms);

  for (const auto* good : {&ok, &also}) {
    REQUIRE(good->finished);
    REQUIRE(good->outcome.ok());
    REQUIRE(good->outcome.endpoints.size() == 1);
    CHECK(good->outcome.endpoints[0].address().to_string() == "127.0.0.1");
    CHECK(good->outcome.endpoints[0].port() == 8080);
    CHECK(good->took < 300ms);
  }
  REQUIRE(slow.finished);
  CHECK(slow.outcome.endpoints.empty());
  CHECK_THAT(slow.outcome.error, Catch::StartsWith("resolving 'slow.test' timed out after"));
  CHECK(slow.took >= 1s);
  CHECK(slow.took < 1100ms);
  // Per-try timeout 250ms: the dropped A and AAAA queries were each sent again within the second.
  CHECK(server.queries("slow.test") >= 4);
}

TEST_CASE("an unknown name fails fast with the resolver's reason") {
  dns_server server({"ok.test"}, {});
  boost::asio::io_context io;
  probes::dns_resolver resolver(io.get_executor(), options_for(server));
  timed_outcome nope;
  spawn_lookup(io, resolver, "nope.test", 5s, nope);
  io.run();
  REQUIRE(nope.finished);
  CHECK(nope.outcome.error == "cannot resolve 'nope.test': Domain name not found");
  CHECK(nope.took < 1s);
}

TEST_CASE("a cached answer is served without asking the server again") {
  dns_server server({"ok.test"}, {});
  for (const bool cached : {true, false}) {
    boost::asio::io_context io;
    probes::dns_resolver resolver(io.get_executor(),
                                  options_for(server, cached ? nanoseconds{30s} : nanoseconds{0}));
    timed_outcome first, second;
    const std::size_t before = server.queries("ok.test");
    spawn_lookup(io, resolver, "ok.test", 2s, first);
    io.run();
    const std::size_t after_first = server.queries("ok.test");
    io.restart();
    spawn_lookup(io, resolver, "ok.test", 2s, second);
    io.run();
    REQUIRE(first.outcome.ok());
    REQUIRE(second.outcome.ok());
    CHECK(second.outcome.endpoints == first.outcome.endpoints);
    CHECK(after_first > before);
    CHECK(resolver.cached_hosts() == (cached ? 1u : 0u));
    if (cached)
      CHECK(server.queries("ok.test") == after_first);
    else
      CHECK(server.queries("ok.test") > after_first);
  }
}

TEST_CASE("localhost comes from the hosts file, not from DNS") {
  dns_server server({}, {"localhost"});
  boost::asio::io_context io;
  probes::dns_resolver resolver(io.get_executor(), options_for(server));
  timed_outcome local;
  spawn_lookup(io, resolver, "localhost", 2s, local);
  io.run();
  REQUIRE(local.outcome.ok());
  REQUIRE(!local.outcome.endpoints.empty());
  CHECK(local.outcome.endpoints[0].address().is_loopback());
  CHECK(server.queries("localhost") == 0);
}

TEST_CASE("DNS server lists accept addresses with optional ports only") {
  for (const char* good : {"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1", "[::1]"})
    CHECK_FALSE(probes::dns_server_error(good));
  for (const char* bad : {"", "dns.example", "dns.example:53", "127.0.0.1:0", "127.0.0.1:x",
                          "127.0.0.1:", "[::1", "[127.0.0.1]:53", "[::1]53"})
    CHECK(probes::dns_server_error(bad));
  CHECK_FALSE(probes::dns_servers_error("127.0.0.1:5353,[::1]:53"));
  CHECK(*probes::dns_servers_error("127.0.0.1,,::1") ==
        "DNS server '' must be IP[:PORT] (an address, not a name; IPv6 as [::1]:53)");
  boost::asio::io_context io;
  CHECK_THROWS_WITH(probes::dns_resolver(io.get_executor(), {.servers = "resolver.internal"}),
                    Catch::Contains("'resolver.internal' must be IP[:PORT]"));
}

TEST_CASE("a budget leaves room for two retries") {
  CHECK(probes::dns_try_timeout_for(1s) == 250ms);
  CHECK(probes::dns_try_timeout_for(100ms) == 50ms);
  CHECK(probes::dns_try_timeout_for(30s) == probes::default_dns_try_timeout);
}
