#include "watchpost/loadgen/pacer.hpp"

#include <catch2/catch.hpp>

using namespace watchpost;
using namespace watchpost::loadgen;
using namespace std::chrono_literals;

TEST_CASE("constant rate: request k is due at k / rate") {
  const auto rate = schedule::constant(100, 10s);
  CHECK(pace(rate, 0ns, 0).wait == 0ns);
  CHECK_FALSE(pace(rate, 0ns, 0).stop);
  // One sent at t=0: the next is due at 10 ms.
  CHECK(pace(rate, 0ns, 1).wait == 10ms);
  CHECK(pace(rate, 4ms, 1).wait == 6ms);
  // Behind schedule: due now.
  CHECK(pace(rate, 500ms, 10).wait == 0ns);
  CHECK(*intended_time(rate, 250) == 2500ms);
  // Exactly rate * duration requests fit.
  CHECK(intended_time(rate, 999).has_value());
  CHECK_FALSE(intended_time(rate, 1000).has_value());
  CHECK(pace(rate, 10s, 5).stop);
  CHECK(pace(rate, 9999ms, 1000).stop);
}

TEST_CASE("stages ramp the rate linearly and the hits integrate it") {
  // 0 -> 100/s over 10 s, then 100/s for 10 s.
  const auto rate = schedule::ramp(0, {{10s, 100}, {10s, 100}});
  CHECK(rate.total_duration() == 20s);
  CHECK(rate.value_at(5s) == Approx(50));
  CHECK(rate.integral_to(10s) == Approx(500));
  CHECK(rate.integral_to(20s) == Approx(1500));
  // The ramp's k-th request is at sqrt(2k/slope): k=50 -> sqrt(10) s.
  CHECK(to_seconds(*intended_time(rate, 50)) == Approx(std::sqrt(10.0)).epsilon(1e-6));
  CHECK(to_seconds(*intended_time(rate, 600)) == Approx(11.0).epsilon(1e-6));
  CHECK_FALSE(intended_time(rate, 1500).has_value());
  // Waits shrink as the rate grows.
  const auto early = pace(rate, *intended_time(rate, 10), 11).wait;
  const auto late = pace(rate, *intended_time(rate, 400), 401).wait;
  CHECK(early > late);
}

TEST_CASE("a ramp down and a flat zero stage end the schedule") {
  const auto rate = schedule::ramp(100, {{2s, 0}, {5s, 0}});
  CHECK(rate.integral_to(2s) == Approx(100));
  CHECK(intended_time(rate, 99).has_value());
  CHECK_FALSE(intended_time(rate, 101).has_value());
  CHECK(pace(rate, 3s, 101).stop);
}

TEST_CASE("scaled schedules split the rate across shards and threads") {
  const auto rate = schedule::constant(2000, 5s).scaled(0.5);
  CHECK(rate.value_at(1s) == Approx(1000));
  CHECK_FALSE(intended_time(rate, 5000).has_value());
  CHECK(intended_time(rate, 4999).has_value());
}

TEST_CASE("share_of splits integers so the shares sum to the total") {
  std::uint64_t sum = 0;
  for (unsigned i = 0; i < 3; ++i) sum += share_of(10, i, 3);
  CHECK(sum == 10);
  CHECK(share_of(10, 0, 3) == 3);
  CHECK(share_of(10, 2, 3) == 4);
  CHECK(share_of(1, 0, 4) == 0);
}
