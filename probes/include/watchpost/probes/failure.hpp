#pragma once
// The one failure taxonomy. Transport kinds come from the HTTP client; status and
// assertion come from checks. Metrics use the coarse result label of each kind.
#include <string_view>

namespace watchpost::probes {

enum class failure_kind {
  none,
  dns,              // name did not resolve (or resolving timed out)
  connect,          // refused or unreachable
  connect_timeout,  // TCP handshake did not finish in time
  tls_handshake,    // TLS negotiation failed (not a verification problem)
  tls_verify,       // peer certificate rejected: untrusted, expired, wrong name
  timeout,          // the total deadline passed while waiting for or reading the response
  reset,            // peer closed or reset the connection before the response was complete
  protocol,         // not a valid HTTP/1.1 response (bad status line, oversized headers, ...)
  body_too_large,   // body exceeded the configured cap
  status,           // response arrived but the status code was not the expected one
  assertion,        // response arrived but an expectation on it failed
};

// Stable snake_case name: "connect_timeout", "tls_verify", ...; "ok" for none.
std::string_view to_string(failure_kind kind);
// The `result` label of watchpost_probe_total: ok|dns|connect|tls|timeout|status|assertion|protocol.
std::string_view metric_result(failure_kind kind);
// Inverse of to_string; false if the name is unknown.
bool parse_failure_kind(std::string_view name, failure_kind& out);

inline constexpr failure_kind all_failure_kinds[] = {
    failure_kind::dns,           failure_kind::connect,    failure_kind::connect_timeout,
    failure_kind::tls_handshake, failure_kind::tls_verify, failure_kind::timeout,
    failure_kind::reset,         failure_kind::protocol,   failure_kind::body_too_large,
    failure_kind::status,        failure_kind::assertion};

}  // namespace watchpost::probes
