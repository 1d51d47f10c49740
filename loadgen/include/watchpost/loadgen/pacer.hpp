#pragma once
// The arrival schedule of the open model and the connection ramp of the closed one, as pure
// functions of elapsed time (vegeta lib/pacer.go): no clock, no I/O, unit-tested alone.
#include <cstdint>
#include <optional>
#include <vector>

#include "watchpost/common/duration.hpp"

namespace watchpost::loadgen {

// One ramp segment: over `duration` the target moves linearly from the previous stage's
// target (or from `start` for the first stage) to `target`. k6's ramping executors.
struct stage {
  nanoseconds duration{0};
  double target = 0;
};

// A target over time: constant (no stages) or piecewise linear (stages). Past the last
// stage the schedule ends.
class schedule {
 public:
  // Constant `value` for `duration`.
  static schedule constant(double value, nanoseconds duration);
  // Stages starting from `start` (0 for a ramp up from nothing).
  static schedule ramp(double start, std::vector<stage> stages);

  nanoseconds total_duration() const { return total_; }
  // Target at elapsed t (the last stage's target after the end).
  double value_at(nanoseconds t) const;
  // Integral of the target from 0 to t, in target-seconds (hits for a rate).
  double integral_to(nanoseconds t) const;
  // Earliest t with integral_to(t) >= hits, or nullopt if the schedule ends first.
  std::optional<nanoseconds> time_of(double hits) const;
  // Scales every target (shards and per-thread shares).
  schedule scaled(double factor) const;

 private:
  double start_ = 0;
  std::vector<stage> stages_;
  nanoseconds total_{0};
};

struct pace_step {
  nanoseconds wait{0};  // how long until the next request is due (0 = now, late)
  bool stop = false;    // the schedule has no further request
};

// vegeta-style pacer: given the time since the start and the requests sent so far, when is
// the next one due? Request k (0-based) is due at the time the cumulative rate reaches k.
pace_step pace(const schedule& rate, nanoseconds elapsed, std::uint64_t sent);
// The intended send time of request k (0-based), or nullopt past the end of the schedule.
std::optional<nanoseconds> intended_time(const schedule& rate, std::uint64_t k);

// Share i of n of an integer quantity (connections, requests): the shares sum to total.
std::uint64_t share_of(std::uint64_t total, unsigned i, unsigned n);

}  // namespace watchpost::loadgen
