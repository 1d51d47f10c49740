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
