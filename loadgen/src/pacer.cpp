#include "watchpost/loadgen/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace watchpost::loadgen {

namespace {
double seconds_of(nanoseconds d) { return to_seconds(d); }
nanoseconds from_seconds(double s) { return nanoseconds(static_cast<std::int64_t>(std::llround(s * 1e9))); }
}  // namespace

schedule schedule::constant(double value, nanoseconds duration) {
  return ramp(value, {stage{duration, value}});
}

schedule schedule::ramp(double start, std::vector<stage> stages) {
  schedule s;
  s.start_ = start;
  s.stages_ = std::move(stages);
  for (const auto& st : s.stages_) s.total_ += st.duration;
  return s;
}

double schedule::value_at(nanoseconds t) const {
  double from = start_;
  nanoseconds begin{0};
  for (const auto& st : stages_) {
    if (t < begin + st.duration) {
      const double f = seconds_of(t - begin) / seconds_of(st.duration);
      return from + (st.target - from) * f;
    }
    begin += st.duration;
    from = st.target;
  }
  return from;
}

double schedule::integral_to(nanoseconds t) const {
  double from = start_;
  double sum = 0;
  nanoseconds begin{0};
  for (const auto& st : stages_) {
    if (t <= begin) break;
    const double len = seconds_of(st.duration);
    const double part = seconds_of(std::min(t - begin, st.duration));
    // Trapezoid of a linear ramp from `from` over `part` seconds.
    const double slope = len > 0 ? (st.target - from) / len : 0;
    sum += from * part + 0.5 * slope * part * part;
    begin += st.duration;
    from = st.target;
  }
  return sum;
}

std::optional<nanoseconds> schedule::time_of(double hits) const {
  double from = start_;
  double sum = 0;
  nanoseconds begin{0};
  for (const auto& st : stages_) {
    const double len = seconds_of(st.duration);
    const double slope = len > 0 ? (st.target - from) / len : 0;
    const double stage_hits = from * len + 0.5 * slope * len * len;
    if (sum + stage_hits >= hits && len > 0) {
      // Solve from*x + slope/2*x^2 = need for x in [0, len].
      const double need = hits - sum;
      double x;
      if (std::abs(slope) < 1e-12) {
        x = from > 0 ? need / from : len;
      } else {
        const double disc = std::max(0.0, from * from + 2 * slope * need);
        x = (-from + std::sqrt(disc)) / slope;
      }
      x = std::clamp(x, 0.0, len);
      return begin + from_seconds(x);
    }
    sum += stage_hits;
    begin += st.duration;
    from = st.target;
  }
  return std::nullopt;
}

schedule schedule::scaled(double factor) const {
  schedule s = *this;
  s.start_ *= factor;
  for (auto& st : s.stages_) st.target *= factor;
  return s;
}

std::optional<nanoseconds> intended_time(const schedule& rate, std::uint64_t k) {
  // Request k is due when k requests' worth of rate has elapsed: the first goes at t=0.
  auto t = rate.time_of(static_cast<double>(k));
  if (!t || *t >= rate.total_duration()) return std::nullopt;
  return t;
}

pace_step pace(const schedule& rate, nanoseconds elapsed, std::uint64_t sent) {
  if (elapsed >= rate.total_duration()) return {nanoseconds{0}, true};
  auto due = intended_time(rate, sent);
  if (!due) return {nanoseconds{0}, true};
  return {*due > elapsed ? *due - elapsed : nanoseconds{0}, false};
}

std::uint64_t share_of(std::uint64_t total, unsigned i, unsigned n) {
  if (n == 0) return 0;
  return total * (i + 1) / n - total * i / n;
}

}  // namespace watchpost::loadgen
