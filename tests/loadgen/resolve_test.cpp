// resolve(plan, overrides): the one place a load run's settings are decided. Errors come all at
// once, pointing at the file's line for file settings and naming the flag for flags.
#include "watchpost/loadgen/resolve.hpp"

#include <catch2/catch.hpp>

#include "plan_values.hpp"

using namespace watchpost;
using namespace watchpost::loadgen;
using namespace std::chrono_literals;
using watchpost::testing::resolve_errors_of;
using watchpost::testing::resolved_of;

TEST_CASE("resolve rejects what cannot run, at the file's line for settings from the file") {
  auto errors = resolve_errors_of(
      "url: http://127.0.0.1:8080\nduration: 10s\nstages: [ { duration: 5s, target: 10 } ]\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("plan.yaml:2:11: duration: cannot be combined with stages:"));

  errors = resolve_errors_of("url: http://127.0.0.1:8080\nrate: 100\ncount: 50\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("plan.yaml:2:7: rate: needs duration: or stages:"));

  errors = resolve_errors_of("url: http://127.0.0.1:8080\nduration: 0s\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "plan.yaml:2:11: duration must be > 0");

  errors = resolve_errors_of("url: ftp://127.0.0.1/\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("plan.yaml:1:6: "));

  // Found by fuzz_load_plan_config ("url: '"): an empty url in the file said "missing URL".
  errors = resolve_errors_of("url: ''\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "plan.yaml:1:6: url must not be empty");
}

TEST_CASE("resolve names the flag, not the file, for settings from flags") {
  load_overrides flags;
  flags.rate = 100;
  flags.count = 50;
  auto errors = resolve_errors_of("url: http://127.0.0.1:8080\n", flags);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "--rate needs -d (or --stage) to bound the run");

  flags = {};
  flags.duration = "10s";
  flags.stages = {"5s:10"};
  errors = resolve_errors_of("url: http://127.0.0.1:8080\n", flags);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "--duration cannot be combined with --stage (the stages set the run length)");

  // A flag against a file setting names each by its source.
  flags = {};
  flags.duration = "10s";
  errors = resolve_errors_of("url: http://127.0.0.1:8080\nstages: [ { duration: 5s, target: 10 } ]\n", flags);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "--duration cannot be combined with stages: (the stages set the run length)");
}

TEST_CASE("resolve reports every error at once") {
  load_overrides flags;
  flags.threads = 0;
  flags.connections = 0;
  flags.rate = -1;
  flags.stages = {"soon"};
  flags.timeout = "later";
  flags.shard = "3/2";
  flags.thresholds = {"p99 about 3"};
  flags.method = "POST";
  const auto errors = resolve_errors_of("requests: [ { path: / }, { path: /b } ]\n", flags);
  const std::vector<std::string> starts = {"missing URL",    "-X/-H/--body",  "-t must",
                                           "-c must",        "--shard '3/2'", "--timeout 'later'",
                                           "--stage 'soon'", "--rate must",   ""};
  REQUIRE(errors.size() == starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) CHECK_THAT(errors[i], Catch::StartsWith(starts[i]));
  for (const auto& e : errors) CHECK_THAT(e, !Catch::Contains("plan.yaml"));
}

TEST_CASE("resolve layers flags over the file and applies the shard's share") {
  const std::string yaml = R"(url: http://127.0.0.1:8080/x
connections: 10
threads: 4
duration: 5s
timeout: 2s
thresholds: [ "p99<1s" ]
)";
  auto r = resolved_of(yaml);
  CHECK(r.options.connections == 10);
  CHECK(r.options.threads == 4);
  CHECK(r.options.duration == 5s);
  CHECK(r.options.timeout == 2s);
  CHECK(r.options.parameters.model == "closed");
  CHECK(r.thresholds.size() == 1);
  CHECK(r.options.parameters.thresholds == std::vector<std::string>{"p99<1s"});

  load_overrides flags;
  flags.duration = "1s";
  flags.thresholds = {"p50<1s", "error_rate<1%"};
  flags.shard = "2/3";
  flags.rate = 300;
  r = resolved_of(yaml, flags);
  CHECK(r.options.duration == 1s);
  CHECK(r.thresholds.size() == 2);
  CHECK(r.options.connections == share_of(10, 1, 3));
  CHECK(r.options.threads == 3);  // never more threads than connections
  REQUIRE(r.options.rate);
  CHECK(r.options.parameters.model == "open");
  CHECK(r.options.parameters.rate == Approx(100));
  CHECK(r.options.shard_index == 1);
  CHECK(r.options.shard_count == 3);

  flags = {};
  flags.count = 2;
  flags.shard = "1/3";  // shares of 2 over 3: 0, 1, 1
  const auto errors = resolve_errors_of(yaml, flags);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "-n is smaller than the number of shards");
}

TEST_CASE("resolve turns closed-model stages into a connection ramp sized for its peak") {
  const auto r = resolved_of(
      "url: http://127.0.0.1:8080\nstages: [ { duration: 1s, target: 4 }, { duration: 2s, target: 2 } ]\n");
  CHECK(r.options.duration == 3s);
  CHECK(r.options.connection_ramp);
  CHECK_FALSE(r.options.rate);
  CHECK(r.options.connections == 4);

  load_overrides flags;
  flags.method = "PUT";
  flags.headers = {{"X-Run", "1"}};
  flags.body = "x";
  const auto single = resolved_of("url: http://127.0.0.1:8080/p\ncount: 3\n", flags);
  REQUIRE(single.options.requests.size() == 1);
  CHECK(single.options.requests[0].method == "PUT");
  CHECK(single.options.requests[0].target == "/p");
  CHECK(single.options.requests[0].body == "x");
  CHECK(single.options.duration == 0s);  // -n alone bounds a closed run
  CHECK(single.options.max_requests == 3);
}

TEST_CASE("resolve bounds what the stages add up to: no overflowed run length, no million-plus connections") {
  auto errors = resolve_errors_of(
      "url: http://127.0.0.1:8080\nstages: [ { duration: 1752000h, target: 1 }, { duration: 1752000h, "
      "target: 1 } ]\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "plan.yaml:2:9: stages: add up to more than 285 years");

  errors = resolve_errors_of("url: http://127.0.0.1:8080\nstages: [ { duration: 1s, target: 2000000 } ]\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "plan.yaml:2:9: stages: targets are connections here: 0..1000000");
  // With a rate, the targets are requests per second.
  CHECK(resolved_of("url: http://127.0.0.1:8080\nrate: 1\nstages: [ { duration: 1s, target: 2000000 } ]\n")
            .options.rate);
}
