// evaluate() and judge(): a response against an expectation. Status, latency, redirect and CORS
// are judged here; headers, body, JSON and TLS in a file each (check_kinds.hpp).
#include "watchpost/probes/check.hpp"

#include "check_kinds.hpp"
#include "check_text.hpp"

namespace watchpost::probes {

using detail::quoted;

std::vector<std::string> evaluate(const expectation& e, const result& res,
                                  const std::map<std::string, std::string>& captures, const redactor& mask) {
  std::vector<std::string> out;
  if (!res.ok()) {
    // A refused plain listener is an acceptable answer to "plain HTTP must not serve".
    if (e.redirect_allow_refused && res.failure == failure_kind::connect) return out;
    out.push_back("request: expected a response, got " + std::string(to_string(res.failure)) +
                  (res.error.empty() ? "" : " (" + res.error + ")"));
    return out;
  }
  const status_rule default_status{{}, {2, 3}};
  if (!e.redirect_to_https) {
    const status_rule& want = e.status ? *e.status : default_status;
    if (!want.matches(res.status))
      out.push_back("status: expected " + want.describe() + ", got " + std::to_string(res.status));
  } else if (e.status && !e.status->matches(res.status)) {
    out.push_back("status: expected " + e.status->describe() + ", got " + std::to_string(res.status));
  }
  detail::check_headers(e, res, captures, mask, out);
  detail::check_body(e, res, captures, mask, out);
  detail::check_json(e, res, captures, mask, out);
  if (e.latency_ms) {
    const double ms = std::chrono::duration<double, std::milli>(res.timings.total).count();
    if (!e.latency_ms->holds(ms))
      out.push_back("latency: expected " + e.latency_ms->text + ", got " +
                    format_duration(res.timings.total));
  }
  if (e.tls) detail::check_tls(*e.tls, res, out);
  if (e.protocol && *e.protocol != res.protocol)
    out.push_back("protocol: expected " + std::string(alpn_name(*e.protocol)) + ", got " +
                  std::string(alpn_name(res.protocol)));
  if (e.redirect_to_https) {
    const std::string* location = res.header("Location");
    const bool redirects =
        res.status >= 300 && res.status < 400 && location && location->starts_with("https://");
    if (!redirects)
      out.push_back("redirect: expected 3xx to https://..., got " + std::to_string(res.status) +
                    (location ? " to " + quoted(*location, mask) : " without Location"));
  }
  if (e.cors_no_wildcard_with_credentials) {
    const std::string* origin = res.header("Access-Control-Allow-Origin");
    const std::string* credentials = res.header("Access-Control-Allow-Credentials");
    if (origin && *origin == "*" && credentials && iequals(*credentials, "true"))
      out.push_back(
          "cors: expected no Access-Control-Allow-Origin \"*\" with credentials, got \"*\" and "
          "Access-Control-Allow-Credentials \"true\"");
  }
  return out;
}

check_outcome judge(const std::string& name, const expectation& expect, result res,
                    const std::map<std::string, std::string>& captures, const redactor& mask) {
  check_outcome o;
  o.name = name;
  o.failures = evaluate(expect, res, captures, mask);
  if (!o.failures.empty()) {
    if (!res.ok() && !(expect.redirect_allow_refused && res.failure == failure_kind::connect))
      o.kind = res.failure;
    else if (o.failures.front().starts_with("status:"))
      o.kind = failure_kind::status;
    else
      o.kind = failure_kind::assertion;
  }
  o.response = std::move(res);
  return o;
}

}  // namespace watchpost::probes
