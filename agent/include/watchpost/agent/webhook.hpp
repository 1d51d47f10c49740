#pragma once
// Signed webhook delivery (rollback hooks): POST a JSON body with an event id (the
// receiver's idempotency key) and an HMAC-SHA256 signature, retrying with exponential
// backoff and full jitter. Secrets never appear in outcomes, errors or logs.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "watchpost/common/duration.hpp"
#include "watchpost/probes/url.hpp"

namespace boost::asio::ssl { class context; }

namespace watchpost::agent {

// Lower-case hex HMAC-SHA256 of data under key.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

struct webhook_endpoint {
  probes::url url;
  std::string secret;  // empty: no X-Watchpost-Signature header
  nanoseconds timeout = std::chrono::seconds(10);  // per attempt
};

struct retry_policy {
  int max_attempts = 5;
  nanoseconds initial_backoff = std::chrono::milliseconds(500);
  nanoseconds max_backoff = std::chrono::seconds(30);
};

struct delivery_outcome {
  bool delivered = false;
  int attempts = 0;
  int last_status = 0;     // HTTP status of the last attempt, 0 if none arrived
  std::string last_error;  // one line, secret-free; empty when delivered
};

// Upper bound of the wait before attempt `attempt` (1-based retry number): initial * 2^(n-1),
// capped at max_backoff. The actual wait is uniform in [0, bound] ("full jitter").
nanoseconds backoff_bound(const retry_policy& policy, int retry_number);

// POSTs json_body with Content-Type application/json, X-Watchpost-Event-Id and, when the
// secret is non-empty, X-Watchpost-Signature: sha256=<hex HMAC of body>. A 2xx ends it;
// transport failures and other statuses are retried up to policy.max_attempts.
boost::asio::awaitable<delivery_outcome> deliver_webhook(const webhook_endpoint& endpoint,
                                                        const std::string& event_id,
                                                        const std::string& json_body,
                                                        const retry_policy& policy,
                                                        std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

// Blocking form on a private io_context (CLI one-shots such as `smoke --on-fail-webhook`).
delivery_outcome deliver_webhook_now(const webhook_endpoint& endpoint, const std::string& event_id,
                                     const std::string& json_body, const retry_policy& policy,
                                     std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

}  // namespace watchpost::agent
