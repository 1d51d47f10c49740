// The shard assignment: pinned hash values (a changed hash would silently move every target
// between running replicas), its spread, what growing N moves, and the one-line errors.
#include "watchpost/agent/shard.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdlib>

#include "watchpost/agent/config.hpp"
#include "watchpost/common/config_file.hpp"

using namespace watchpost;
using namespace watchpost::agent;

namespace {

std::string name_of(int i) { return "target-" + std::to_string(i); }

std::string parse_error(std::string_view text) {
  auto parsed = parse_shard(text);
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "no error";
}

std::string resolve_error(const shard_spec& spec, const char* pod_name, const char* hostname) {
  try {
    resolve_shard(spec, pod_name, hostname);
  } catch (const usage_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("the shard hash is FNV-1a 64 then jump consistent hash, pinned to published values") {
  // FNV-1a test vectors (Fowler, Noll, Vo).
  CHECK(fnv1a_64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a_64("foobar") == 0x85944171f73967e8ULL);
  // Jump hash vectors shared by the paper's ports (Go, Rust, ClickHouse's jumpConsistentHash).
  CHECK(jump_consistent_hash(1, 1) == 0);
  CHECK(jump_consistent_hash(42, 57) == 43);
  CHECK(jump_consistent_hash(256, 1024) == 520);
  CHECK(jump_consistent_hash(0xDEAD10CCULL, 666) == 361);
  CHECK(jump_consistent_hash(1, 60) == 55);
  CHECK(jump_consistent_hash(2, 60) == 46);
  // The composition on target names, as running replicas compute it.
  CHECK(shard_of("api", 3) == 1);
  CHECK(shard_of("checkout", 3) == 2);
  CHECK(shard_of("target-17", 3) == 1);
  CHECK(shard_of("target-17", 1000) == 586);
  for (int i = 0; i < 100; ++i) CHECK(shard_of(name_of(i), 1) == 0);
}

TEST_CASE("10,000 target names spread evenly over the shards") {
  for (const unsigned count : {3u, 7u}) {
    std::array<int, 7> per_shard{};
    for (int i = 0; i < 10'000; ++i) ++per_shard.at(shard_of(name_of(i), count));
    const double expected = 10'000.0 / count;
    for (unsigned s = 0; s < count; ++s) {
      INFO("shard " << s << " of " << count << ": " << per_shard[s] << " names");
      // Binomial spread is ~1.5% of `expected` here: 8% is more than 5 standard deviations.
      CHECK(per_shard[s] > expected * 0.92);
      CHECK(per_shard[s] < expected * 1.08);
    }
  }
}

TEST_CASE("growing from 3 to 4 shards moves about a quarter of the targets, all to the new shard") {
  int moved = 0;
  for (int i = 0; i < 10'000; ++i) {
    const unsigned before = shard_of(name_of(i), 3), after = shard_of(name_of(i), 4);
    if (before == after) continue;
    ++moved;
    CHECK(after == 3);
  }
  // 2,500 expected; a modulo hash would move 7,500.
  CHECK(moved > 2'300);
  CHECK(moved < 2'700);
}

TEST_CASE("shard values parse as i/N (0-based) or auto/N") {
  CHECK(std::get<shard_spec>(parse_shard("0/3")) == shard_spec{0u, 3, {}});
  CHECK(std::get<shard_spec>(parse_shard("2/3")) == shard_spec{2u, 3, {}});
  CHECK(std::get<shard_spec>(parse_shard("0/1")) == shard_spec{0u, 1, {}});
  CHECK(std::get<shard_spec>(parse_shard("999/1000")) == shard_spec{999u, 1000, {}});
  CHECK(std::get<shard_spec>(parse_shard("auto/3")) == shard_spec{std::nullopt, 3, {}});
  for (const char* malformed : {"a/b", "-1/2", "+1/2", "1", "1/", "/3", " 1/3", "1/3 ", "1/3/4", "", "auto",
                                "AUTO/3", "1/-3", "99999999999/3"})
    CHECK(parse_error(malformed) ==
          "'" + std::string(malformed) +
              "' is not i/N or auto/N (0-based index i below the count N, e.g. 0/3)");
  CHECK(parse_error("3/3") == "'3/3': the shard index must be below the count (shards are numbered 0..2)");
  CHECK(parse_error("1/0") == "'1/0': the shard count must be 1..1000");
  CHECK(parse_error("auto/0") == "'auto/0': the shard count must be 1..1000");
  CHECK(parse_error("0/100000") == "'0/100000': the shard count must be 1..1000");
}

TEST_CASE("auto/N takes the StatefulSet ordinal of $POD_NAME, else of $HOSTNAME") {
  const shard_spec spec{std::nullopt, 3, "agent.yaml:2:8: shard"};
  CHECK(resolve_shard(spec, "watchpost-agent-2", "ignored-0") == shard_assignment{2, 3});
  CHECK(resolve_shard(spec, nullptr, "watchpost-agent-1") == shard_assignment{1, 3});
  CHECK(resolve_shard(spec, "web", "watchpost-agent-0") == shard_assignment{0, 3});
  CHECK(resolve_shard(shard_spec{1u, 3, "--shard"}, nullptr, nullptr) == shard_assignment{1, 3});
  CHECK(resolve_error(spec, "web", nullptr) ==
        "agent.yaml:2:8: shard auto/3: neither $POD_NAME 'web' nor $HOSTNAME (unset) ends in -<ordinal> "
        "(a StatefulSet pod name)");
  CHECK(resolve_error(spec, "watchpost-agent-", "host-x") ==
        "agent.yaml:2:8: shard auto/3: neither $POD_NAME 'watchpost-agent-' nor $HOSTNAME 'host-x' ends in "
        "-<ordinal> (a StatefulSet pod name)");
  CHECK(resolve_error(spec, "watchpost-agent-3", nullptr) ==
        "agent.yaml:2:8: shard auto/3: the pod ordinal 3 is not below the count 3 (more replicas than "
        "shards?)");
}

TEST_CASE("the config's shard: key is checked at its position and resolved later") {
  const std::string targets = "targets:\n  - name: a\n    url: http://127.0.0.1:1/\n";
  const auto config = parse_config("listen: 127.0.0.1:0\nshard: auto/3\n" + targets, "agent.yaml");
  REQUIRE(config.shard);
  CHECK(*config.shard == shard_spec{std::nullopt, 3, "agent.yaml:2:8: shard"});
  CHECK_FALSE(parse_config(targets, "agent.yaml").shard);
  for (const auto& [value, message] :
       {std::pair{"3/3",
                  "agent.yaml:1:8: shard '3/3': the shard index must be below the count (shards are "
                  "numbered 0..2)"},
        std::pair{"a/b",
                  "agent.yaml:1:8: shard 'a/b' is not i/N or auto/N (0-based index i below the count N, "
                  "e.g. 0/3)"}}) {
    try {
      parse_config("shard: " + std::string(value) + "\n" + targets, "agent.yaml");
      FAIL("shard: " << value << " was accepted");
    } catch (const config_error& e) {
      CHECK(std::string(e.what()) == message);
    }
  }
}

TEST_CASE("without --shard or shard:, the agent keeps every target whatever the pod name") {
  ::unsetenv("POD_NAME");
  ::unsetenv("HOSTNAME");
  std::string text = "targets:\n";
  for (int i = 0; i < 10; ++i) text += "  - name: " + name_of(i) + "\n    url: http://127.0.0.1:1/\n";
  auto config = parse_config(text, "agent.yaml");
  const auto selected = keep_shard_targets(config, std::nullopt);
  CHECK(selected.shard == shard_assignment{0, 1});
  CHECK(selected.all_targets == 10);
  CHECK(config.targets.size() == 10);
  // The flag wins over the file's key.
  auto sharded = parse_config("shard: 0/2\n" + text, "agent.yaml");
  CHECK(keep_shard_targets(sharded, shard_spec{1u, 2, "--shard"}).shard == shard_assignment{1, 2});
  for (const auto& t : sharded.targets) CHECK(shard_of(t.name, 2) == 1);
  CHECK_FALSE(sharded.targets.empty());
}
