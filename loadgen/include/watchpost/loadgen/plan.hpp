#pragma once
// Load plan files (YAML), read strictly: every error is a config_error naming file:line:col.
//
//   url: http://127.0.0.1:8080        # scheme, host, port; request paths are relative to it
//   connections: 64                   # closed model (or the open model's connection pool)
//   threads: 2
//   duration: 30s
//   count: 100000                     # like -n
//   rate: 2000                        # open model, requests/s
//   stages:                           # ramp the rate (open) or the connections (closed)
//     - { duration: 10s, target: 1000 }
//   timeout: 10s
//   insecure: false                   # https: skip certificate verification (like -k)
//   ca_file: ca.pem                   # https: trust this PEM bundle (relative to the plan file)
//   thresholds: [ "p99<250ms", "error_rate<0.1%,window=10s" ]
//   headers: { User-Agent: watchpost-load }   # added to every request
//                                     # ${env:NAME} in header values and expect: is expanded
//                                     # when the plan is read and masked (***) in every output
//   requests:                         # the weighted mix (default: GET url's path)
//     - { name: home, path: /, weight: 3 }
//     - name: upload
//       method: POST
//       path: /echo
//       headers: { Content-Type: application/json }
//       body: '{"a":1}'
//       weight: 1
//       expect:                      # the suites' expect: syntax (status, headers, body, json, latency)
//         status: [200, 201]
//         json: { $.ok: true }
//       sample: 1%                   # check non-status rules on 1% of responses (default 100%)
//
// The status rule is checked on every response (mismatches count as errors of kind `status`).
// The other rules run on a deterministic sample: `sample: 1%` checks the 1st, 101st, 201st...
// response of that request on each thread; failures count as errors of kind `assertion`.
// `latency:` compares the response time from the actual send. A sampled body over 16 MiB counts
// as body_too_large. `tls:` rules are not supported (use watchpost smoke for certificates).
// Command-line flags override the file; resolve() (resolve.hpp) layers them and checks the whole.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "watchpost/common/config_file.hpp"
#include "watchpost/loadgen/engine.hpp"
#include "watchpost/loadgen/pacer.hpp"

namespace watchpost::loadgen {

struct load_plan {
  std::optional<std::string> url;
  std::optional<std::uint64_t> connections;
  std::optional<unsigned> threads;
  std::optional<nanoseconds> duration;
  std::optional<std::uint64_t> count;
  std::optional<double> rate;
  std::vector<stage> stages;
  std::optional<nanoseconds> timeout;
  std::optional<bool> insecure;
  std::optional<std::string> ca_file;  // resolved against the plan file's folder
  std::vector<std::string> thresholds;
  std::vector<planned_request> requests;
  probes::redactor secrets;  // every ${env:...} value the plan used (headers, expect:)
  // "plan.yaml:3:11" for each top-level setting the file gave, by key: the errors found when
  // the plan is resolved (resolve.hpp) point at the file's line, not at a flag.
  std::map<std::string, std::string, std::less<>> where;
};

load_plan parse_load_plan(const config_file& file);
// Reads and validates a plan file; throws config_error (file:line:col: message).
load_plan load_plan_file(const std::string& path);

// "30s:1000" as given to --stage; nullopt when malformed.
std::optional<stage> parse_stage(const std::string& text);

}  // namespace watchpost::loadgen
