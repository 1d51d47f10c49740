#pragma once
// The fault matrix of issue 9: each hostile behaviour the test target serves, and the failure
// kind every mode of watchpost must report for it. Expected kinds come from the RFCs, not from
// what the code does today:
// - 1xx responses are never final (RFC 9110 §15.2). A 101 to a request that asked no Upgrade is
//   a switch the client never offered (RFC 9110 §7.8: MUST NOT): protocol.
// - An idle keep-alive close before any response byte: a GET is resent on a fresh connection
//   (RFC 9112 §9.3.1): ok.
// - Framing a client cannot trust is an error: Content-Length with Transfer-Encoding "ought to be
//   handled as an error" (RFC 9112 §6.3 item 3); differing Content-Lengths are unrecoverable
//   (§6.3 item 5); a chunk size that overflows must not be parsed (§7.1): protocol.
// - Bare LF line endings: a recipient MAY accept them (RFC 9112 §2.2), need not. Beast (probe,
//   smoke, agent) rejects them and the load parser must agree with Beast (the issue's
//   differential fuzz target): protocol everywhere.
// - NUL in a field value: reject the message or replace it with SP (RFC 9110 §5.5); we reject.
// - "HTTP/1.1 200" lacks the SP that RFC 9112 §4's status-line grammar requires even before an
//   empty reason; Beast rejects the line and the load parser must agree: protocol.
// - Endless chunk extensions, headers or trailers are capped by the clients (issue 9; RFC 9112
//   §7.1.1 asks for such limits): protocol, without waiting for the deadline.
// - A message cut short by a close, or by a TLS close without close_notify before Content-Length
//   bytes arrived (RFC 9112 §9.8), is incomplete: reset.
// - A body delimited by the close is valid (RFC 9112 §6.3 item 8): ok.
#include <string_view>

namespace watchpost::e2e {

// Which test target serves the row: the ordinary one, or one started with --idle-timeout.
enum class server { plain, idle_closing };

struct fault_row {
  std::string_view name;  // also the agent's target name
  std::string_view path;
  bool https;
  server on;
  // The failure kind (probes::to_string; "ok" for a valid response) each mode reports.
  std::string_view probe, smoke, load;
  // The agent's watchpost_probe_total result label (the coarse probes::metric_result).
  std::string_view agent;
};

// clang-format off
inline constexpr fault_row fault_rows[] = {
  // name                   path                                    https  server                 probe             smoke             load        agent
  {"interim-103-then-200",  "/interim?code=103&then=200",           false, server::plain,         "ok",             "ok",             "ok",       "ok"},
  {"interim-100x3-then-200", "/interim?code=100&count=3&then=200",  false, server::plain,         "ok",             "ok",             "ok",       "ok"},
  {"interim-103-then-503",  "/hostile/interim-then-final",          false, server::plain,         "status",         "status",         "status",   "status"},
  {"interim-102-then-503-tls", "/interim?code=102&then=503",        true,  server::plain,         "status",         "status",         "status",   "status"},
  {"switching-unasked",     "/switching",                           false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"idle-close",            "/health",                              false, server::idle_closing,  "ok",             "ok",             "ok",       "ok"},
  {"idle-close-tls",        "/health",                              true,  server::idle_closing,  "ok",             "ok",             "ok",       "ok"},
  {"chunk-ext-endless",     "/hostile/chunk-ext-endless",           false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"chunk-huge",            "/hostile/chunk-huge",                  false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"cl-te",                 "/hostile/cl-te",                       false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"two-cl",                "/hostile/two-cl",                      false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"lf-only",               "/hostile/lf-only",                     false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"nul-header",            "/hostile/nul-header",                  false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"no-reason",             "/hostile/no-reason",                   false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"early-close",           "/hostile/early-close",                 false, server::plain,         "reset",          "reset",          "reset",    "connect"},
  {"close-delimited",       "/hostile/close-delimited",             false, server::plain,         "ok",             "ok",             "ok",       "ok"},
  {"tls-truncation",        "/hostile/tls-truncation",              true,  server::plain,         "reset",          "reset",          "reset",    "connect"},
  {"endless-headers",       "/hostile/endless-headers",             false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  {"endless-trailers",      "/hostile/endless-trailers",            false, server::plain,         "protocol",       "protocol",       "protocol", "protocol"},
  // Past the body cap of probe and smoke (16 MiB) and of the agent (1 MiB) at loopback speed;
  // the load engine discards bodies, so its per-request deadline ends each one.
  {"endless-body",          "/hostile/endless-body",                false, server::plain,         "body_too_large", "body_too_large", "timeout",  "protocol"},
};
// clang-format on

}  // namespace watchpost::e2e
