#pragma once
// Durations as users write them ("250ms", "5s", "1.5m", "2h", "30d", "100us") and as we print them.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace watchpost {

using nanoseconds = std::chrono::nanoseconds;
using monotonic_clock = std::chrono::steady_clock;

// Parses a non-negative duration with a unit suffix: ns, us, ms, s, m, h, d (24 h). Terms add
// up ("1h30m"). A bare number is rejected: "30" is ambiguous between seconds and milliseconds.
// Anything above 9e18 ns (about 104,000 days) is rejected rather than wrapped.
std::optional<nanoseconds> parse_duration(std::string_view text);

// Human form with three significant figures: "812us", "1.23ms", "4.00s", "2m30s".
std::string format_duration(nanoseconds d);

// Seconds as a double, the unit of Prometheus and JSON reports.
inline double to_seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace watchpost
