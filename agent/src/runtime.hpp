#pragma once
// Internals shared by the scheduler, the status pages and the HTTP server.
#include <array>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/agent/config.hpp"
#include "watchpost/agent/metrics.hpp"
#include "watchpost/agent/slo.hpp"

namespace boost::asio::ssl {
class context;
}
namespace watchpost::probes {
class http_client;
}

namespace watchpost::agent::detail {

// What the status pages show of a target; guarded by target_runtime::mutex.
struct target_view {
  bool probed = false;
  bool up = false;
  std::string last_failure;  // failure kind name ("connect", "status", ...), never raw text
  std::int64_t last_failure_ms = 0;
  std::uint64_t probes = 0;
  std::uint64_t skipped = 0;
  std::array<float, 128> recent_seconds{};  // ring of the last total durations, for p95
  std::size_t recent_count = 0;
  double p95_seconds() const;
};

struct target_runtime {
  explicit target_runtime(const target_config& c);  // in runtime.cpp: the client type is complete there
  ~target_runtime();
  // The running agent_config's entry: the targets are dropped before a reload replaces it, so a
  // target's strings (name, URL, headers, labels) are held once, not copied per target.
  const target_config& config;
  std::vector<slo_objective> objectives;
  std::unique_ptr<target_metrics> metrics;
  // Touched only by the owning worker thread.
  std::unique_ptr<probes::http_client> client;
  bool in_flight = false;
  // Shared with the status server and the snapshot writer.
  mutable std::mutex mutex;
  target_window_state window;
  target_view view;
  std::vector<std::vector<burn_reading>> burn;
};

// Status pages over the current targets (each locked briefly in turn).
std::string render_status_json(const agent_config& config,
                               const std::vector<std::unique_ptr<target_runtime>>& targets);
std::string render_status_html(const agent_config& config,
                               const std::vector<std::unique_ptr<target_runtime>>& targets);
// The webhook payload of one SLO decision.
std::string render_event(const agent_config& config, const target_runtime& target,
                         const slo_decision& decision, wall_time now);

// A uniformly random duration in [low, high] (jitter of probe starts and retry backoff).
nanoseconds random_between(nanoseconds low, nanoseconds high);
std::int64_t unix_millis(wall_time t);
// Logs the exception a detached coroutine ended with, if any.
void log_exception(std::exception_ptr e, const char* what);

// The client TLS contexts every https target and webhook shares (loading the system trust store
// costs ~1 MB and milliseconds of CPU: once per agent, not per target). Control thread only.
class tls_contexts {
 public:
  std::shared_ptr<boost::asio::ssl::context> get(bool insecure);

 private:
  std::shared_ptr<boost::asio::ssl::context> verify_, insecure_;
};

using target_list = std::vector<std::unique_ptr<target_runtime>>;

struct http_reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
using request_handler = std::function<http_reply(std::string_view path)>;

}  // namespace watchpost::agent::detail
