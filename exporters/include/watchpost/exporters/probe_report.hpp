#pragma once
// Output of `watchpost probe`: one result as readable text or as a JSON object.
// Request headers are never printed (they may carry credentials).
#include <boost/json/fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "watchpost/probes/http_types.hpp"

namespace watchpost::exporters {

std::string probe_text(const probes::request& req, const probes::result& res);
std::string probe_json(const probes::request& req, const probes::result& res);

// Shared pieces for other reports.
boost::json::object timings_json(const probes::phase_timings& t);
boost::json::object tls_json(const probes::tls_info& tls);
// ISO 8601 UTC, e.g. "2027-02-21T14:02:06Z".
std::string iso8601(std::chrono::system_clock::time_point t);
// Inverse of iso8601 (that exact form only); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

}  // namespace watchpost::exporters
