#pragma once
// Prometheus push for one-shot runs (CI): a run's metrics under the SPEC names, built on a
// prometheus-cpp registry and PUT to a Pushgateway by our own HTTP client. (prometheus-cpp's
// push library would bring libcurl and ~27 shared libraries into every start of the binary,
// ~30 ms of CPU measured, and has no deadline.) Each group (job + grouping labels) is replaced
// as a whole by its push and by nothing else, so different suites, targets and load shards
// pushing to one gateway never overwrite each other. Label values pass the run's redactor.
#include <prometheus/labels.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "watchpost/common/duration.hpp"
#include "watchpost/exporters/suite_report.hpp"
#include "watchpost/loadgen/result.hpp"
#include "watchpost/probes/http_types.hpp"
#include "watchpost/probes/url.hpp"

namespace watchpost::exporters {

inline constexpr std::string_view smoke_push_job = "watchpost_smoke";
inline constexpr std::string_view load_push_job = "watchpost_load";

// The `result` and `phase` label sets of the probe metrics (SPEC "Metrics").
inline constexpr std::array<std::string_view, 8> probe_results = {
    "ok", "dns", "connect", "tls", "timeout", "status", "assertion", "protocol"};
inline constexpr std::array<std::string_view, 6> probe_phases = {"resolve", "connect",  "tls",
                                                                 "ttfb",    "transfer", "total"};

// One group on the gateway: grouping labels besides job, and what is pushed into it.
struct push_group {
  prometheus::Labels grouping;
  std::shared_ptr<prometheus::Registry> registry;
};

struct push_options {
  nanoseconds timeout = std::chrono::seconds(10);  // the whole push: a silent gateway must not hang CI
  probes::tls_options tls;                         // for an https:// gateway
};

struct push_outcome {
  bool pushed = false;
  std::string error;  // one line, when !pushed
};

// http(s)://host[:port][/path-prefix]: a parsed URL without query; a one-line reason otherwise.
std::variant<probes::url, probes::url_error> parse_gateway_url(std::string_view text);

// PUTs every group under `job` (text format 0.0.4, grouping values base64url-encoded in the
// path); stops at the first failure: unreachable gateway, non-2xx (with the gateway's reason),
// no answer within the timeout. Never throws.
push_outcome push_to_gateway(const probes::url& gateway, std::string_view job,
                             const std::vector<push_group>& groups, const push_options& options = {});

// Smoke: one group per target, grouping {suite, instance=target}, holding
// watchpost_probe_success{target,check}, watchpost_probe_total{target,check,result},
// watchpost_probe_duration_seconds{target,phase} and, when a certificate was seen,
// watchpost_tls_cert_expiry_timestamp_seconds{target}. Skipped checks ran no probe and are
// left out; a target that never became ready has only success{check="target is ready"} 0.
std::vector<push_group> suite_run_metrics(const suite_run& run, const probes::redactor& redact);
push_outcome push_suite_run(const probes::url& gateway, const suite_run& run, const probes::redactor& redact,
                            const push_options& options = {});

// Load: one group, grouping {instance=target, shard="i/N"}, holding
// watchpost_load_requests_total{target,result}, watchpost_load_responses_total{target,code},
// watchpost_load_duration_seconds{target} (histogram of the corrected latency),
// watchpost_load_duration_quantile_seconds{target,quantile}, watchpost_load_requests_per_second{target},
// watchpost_load_elapsed_seconds{target}, watchpost_load_threshold_passed{target,threshold}
// and watchpost_load_passed{target} (1 when every threshold held).
push_group load_run_metrics(const loadgen::load_result& result,
                            const std::vector<loadgen::threshold_outcome>& outcomes);
push_outcome push_load_run(const probes::url& gateway, const loadgen::load_result& result,
                           const std::vector<loadgen::threshold_outcome>& outcomes,
                           const push_options& options = {});

}  // namespace watchpost::exporters
