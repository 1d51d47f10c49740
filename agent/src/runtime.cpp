#include "runtime.hpp"

#include <random>

#include "watchpost/agent/log.hpp"
#include "watchpost/probes/http_client.hpp"

namespace watchpost::agent::detail {

nanoseconds random_between(nanoseconds low, nanoseconds high) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  if (high <= low) return low;
  return nanoseconds{std::uniform_int_distribution<std::int64_t>(low.count(), high.count())(rng)};
}

target_runtime::target_runtime(const target_config& c) : config(c) {}
target_runtime::~target_runtime() = default;

std::int64_t unix_millis(wall_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void log_exception(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log_event(log_level::error, what, {{"error", ex.what()}});
  }
}

std::shared_ptr<boost::asio::ssl::context> tls_contexts::get(bool insecure) {
  auto& slot = insecure ? insecure_ : verify_;
  if (!slot) slot = probes::make_tls_context({insecure, {}});
  return slot;
}

}  // namespace watchpost::agent::detail
