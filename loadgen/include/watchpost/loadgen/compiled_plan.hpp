#pragma once
// What the engine runs, compiled once from load_options before any I/O and read-only during
// the run: the bytes of each request, what is judged on every response and what on a sample,
// and the weighted mix. The choices a worker makes per request (which request, whether to
// sample it) are small values over it (vegeta's Targeter), tested without sockets.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "watchpost/loadgen/engine.hpp"
#include "watchpost/probes/check.hpp"
#include "watchpost/probes/redact.hpp"

namespace watchpost::loadgen {

struct compiled_request {
  std::string name;                // the plan's name, else "METHOD /path"
  std::string wire;                // the exact bytes sent
  bool head = false;               // HEAD: no body in the answer
  bool idempotent = true;          // resent once after an idle keep-alive close
  std::string idle_close_message;  // why a non-idempotent one was not resent
  probes::status_rule status;      // checked on every response
  // Only when expect: has rules beyond the status: the whole expectation, checked on a sample.
  std::optional<probes::expectation> sampled;
  double sample = 1;       // share of responses judged by `sampled`
  bool keep_body = false;  // a sampled rule reads the body (body:, json:)
};

struct compiled_plan {
  std::vector<compiled_request> requests;  // never empty
  std::vector<double> cumulative_weight;   // running sum of the weights, one per request
  double total_weight = 0;
  probes::redactor secrets;  // ${env:...} and credential header values, masked in failure messages
};

// Fills in the url's path for requests without one; a request the wire would not frame
// (CR/LF in a header, a space in the method) is an error naming it, not a plan.
struct plan_compile_error {
  std::string message;
};
std::variant<compiled_plan, plan_compile_error> compile_plan(const load_options& options);

// Which request of the mix goes next: weighted, spread by xorshift64 (the mix needs spread, not
// cryptographic quality), reproducible from the seed.
class request_picker {
 public:
  explicit request_picker(std::uint64_t seed) : state_(seed) {}  // seed != 0
  std::size_t next(const compiled_plan& plan) {
    if (plan.requests.size() == 1) return 0;
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    const double x = static_cast<double>(state_ >> 11) * 0x1.0p-53 * plan.total_weight;
    std::size_t i = 0;
    while (i + 1 < plan.cumulative_weight.size() && x >= plan.cumulative_weight[i]) ++i;
    return i;
  }

 private:
  std::uint64_t state_;
};

// Which responses are judged against their sampled rules: deterministic, the first of each
// request, then one per 1/sample responses (`sample: 1%` takes the 1st, 101st, 201st...).
class response_sampler {
 public:
  explicit response_sampler(const compiled_plan& plan) : credit_(plan.requests.size(), 1.0) {}
  bool take(const compiled_plan& plan, std::size_t request) {
    const compiled_request& r = plan.requests[request];
    if (!r.sampled) return false;
    double& credit = credit_[request];
    const bool taken = credit >= 1 - 1e-9;
    if (taken) credit -= 1;
    credit += r.sample;
    return taken;
  }

 private:
  std::vector<double> credit_;
};

}  // namespace watchpost::loadgen
