#include "watchpost/common/duration.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using watchpost::format_duration;
using watchpost::parse_duration;

TEST_CASE("durations parse with every unit") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("5s") == 5s);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("2m") == 120s);
  CHECK(parse_duration("1h") == 3600s);
  CHECK(parse_duration("100us") == 100us);
  CHECK(parse_duration("7ns") == 7ns);
  CHECK(parse_duration("0s") == 0s);
}

TEST_CASE("malformed durations are rejected") {
  for (const char* bad :
       {"", "5", "ms", "5 s", "-5s", "5sec", "1.2.3s", "s5", "99999999999999h", "nan s", "5S"})
    CHECK_FALSE(parse_duration(bad).has_value());
}

TEST_CASE("durations format with three significant figures") {
  CHECK(format_duration(812ns) == "812ns");
  CHECK(format_duration(812us) == "812us");
  CHECK(format_duration(1234us) == "1.23ms");
  CHECK(format_duration(4s) == "4s");
  CHECK(format_duration(150s) == "2m30s");
  CHECK(format_duration(3h + 5min) == "3h05m");
}

// Found by fuzz_duration: format_duration prints "2h00m" and "1m30s", which parse_duration
// rejected (tests/fuzz/corpus/duration/two_hours).
TEST_CASE("what format_duration prints above a minute parses back") {
  for (auto d :
       {std::chrono::nanoseconds(std::chrono::hours(2)), std::chrono::nanoseconds(std::chrono::seconds(90)),
        std::chrono::nanoseconds(std::chrono::minutes(65))})
    CHECK(watchpost::parse_duration(watchpost::format_duration(d)) == d);
  CHECK(watchpost::parse_duration("1h30m") == std::chrono::minutes(90));
  CHECK_FALSE(watchpost::parse_duration("1h30"));
  CHECK_FALSE(watchpost::parse_duration("1hm"));
}

// Found by fuzz_duration: 999999ns printed as "1e+03us", which does not parse
// (tests/fuzz/corpus/duration/rounds_up_a_unit).
TEST_CASE("a value that rounds up to the next unit is printed in that unit") {
  CHECK(format_duration(999999ns) == "1ms");
  CHECK(format_duration(999'600'000ns) == "1s");
  CHECK(format_duration(999'400ns) == "999us");
  for (auto d : {999999ns, 999'600'000ns, 999'500ns, 999'499'999ns})
    CHECK(watchpost::parse_duration(format_duration(d)).has_value());
}

// Days go through the same grammar as every other unit: SLO windows used to be read by a
// separate "<digits>d" path in the agent that skipped the zero and overflow checks.
TEST_CASE("days parse like every other unit, with the same overflow check") {
  CHECK(parse_duration("30d") == std::chrono::hours(24 * 30));
  CHECK(parse_duration("1.5d") == std::chrono::hours(36));
  CHECK(parse_duration("1d12h") == std::chrono::hours(36));
  CHECK(parse_duration("0d") == 0s);
  CHECK(parse_duration("104166d") == std::chrono::hours(24 * 104166));
  for (const char* bad : {"104167d", "99999999999999999999d", "d", "5D", "-1d", "1dd", "1d5"})
    CHECK_FALSE(parse_duration(bad).has_value());
}
