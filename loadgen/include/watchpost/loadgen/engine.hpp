#pragma once
// The load engine: one OS thread per worker (its I/O on io_uring or on an epoll io_context), each
// owning its connections, interval histograms and counters (wrk2). Workers hand a completed second to the
// main thread once a second (one post, no locks in the hot path); the main thread merges them into the run's
// series and totals and calls the observer. The engine prints nothing.
//
// What every intended request becomes, so that nothing is lost unreported:
// - a response or an error (counters::requests, errors by kind);
// - open model, `dropped` (k6's dropped_iterations): the schedule said send and no connection
//   was free. Connections claim slots in order as soon as they are free, so a slot claimed
//   after its intended time waited for a connection. It is sent late (its corrected latency
//   shows the wait) while that wait is at most --timeout; a slot later than that is dropped,
//   since no response to it could arrive within the timeout counted from its intended time.
//   Slots due before the run ends that no connection was free to claim are dropped too;
// - `in_flight_at_end`: sent, unanswered and within its deadline when the run ended (one
//   already past its deadline counts as a `timeout` error).
// A reused keep-alive connection that the server closed before any byte of the response (an
// idle close racing the request) is reconnected and an idempotent request resent once,
// counted in `reconnects`; a non-idempotent one is a `reset` whose failure message says so.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "watchpost/loadgen/pacer.hpp"
#include "watchpost/loadgen/result.hpp"
#include "watchpost/probes/check.hpp"
#include "watchpost/probes/http_types.hpp"
#include "watchpost/probes/redact.hpp"

namespace watchpost::loadgen {

// One kind of request in the mix as the plan gives it (compiled_plan.hpp holds its bytes).
struct planned_request {
  std::string name;
  std::string method = "GET";
  std::string target = "/";  // path and query
  probes::header_list headers;
  std::string body;
  double weight = 1;
  // The suites' expect: block. The status rule (default 2xx/3xx) is checked on every response;
  // header, body, json and latency rules on a `sample` share of them, whose headers (and body,
  // when a rule reads it) are kept for that purpose only.
  std::optional<probes::expectation> expect;
  double sample = 1;  // 0 < sample <= 1
};

// The I/O back end of plain-http connections (https always runs on epoll). auto: io_uring when
// the kernel has what the engine needs and allows it, else epoll, with the reason in the result.
enum class io_choice : std::uint8_t { automatic, uring, epoll };

struct load_options {
  probes::url url;                        // scheme, host, port (target used when requests is empty)
  std::vector<planned_request> requests;  // the weighted mix
  unsigned threads = 1;
  std::uint64_t connections = 10;
  std::optional<schedule> rate;                           // open model when set (requests/s over time)
  std::optional<schedule> connection_ramp;                // closed model stages (connections over time)
  nanoseconds duration{0};                                // 0: until max_requests
  std::uint64_t max_requests = 0;                         // -n, 0 = none
  nanoseconds timeout = std::chrono::seconds(10);         // per request, from its send
  nanoseconds connect_timeout = std::chrono::seconds(5);  // TCP connect and TLS handshake
  probes::tls_options tls;                                // https: verification on unless insecure
  unsigned shard_index = 0, shard_count = 1;              // this process runs share i of n
  run_parameters parameters;                              // echoed into the result
  probes::redactor secrets;             // the plan's ${env:...} values, masked in failure messages
  io_choice io = io_choice::automatic;  // --io; `uring` where io_uring is refused is a usage error
};

// Called on the main thread after each whole second; return false to end the run early
// (--abort-on-fail). `so_far` holds everything merged up to and including `latest`.
using interval_observer = std::function<bool(const load_result& so_far, const series_point& latest)>;

// Runs the plan to completion, SIGINT (first: graceful stop, second: hard stop) or abort.
// Throws usage_error for an unreadable CA file, a request the wire cannot frame or --io uring where
// io_uring is unavailable; a name that does
// not resolve is no setup error: every attempt counts as a dns error.
load_result run_load(const load_options& options, const interval_observer& observer);

}  // namespace watchpost::loadgen
