#pragma once
// Signed webhook delivery (rollback hooks): POST a JSON body with an event id (the
// receiver's idempotency key), a timestamp and an HMAC-SHA256 signature over both, retrying
// transient failures with exponential backoff and full jitter. Secrets never appear in
// outcomes, errors or logs.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "watchpost/common/duration.hpp"
#include "watchpost/probes/url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace watchpost::exporters {

// Lower-case hex HMAC-SHA256 of data under key.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The X-Watchpost-Signature value of one attempt: "sha256=" + hex HMAC-SHA256(secret,
// "<unix_seconds>.<body>") (the scheme of Stripe and Slack). Binding the timestamp lets a
// receiver refuse a replayed request once it is older than its tolerance.
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

struct webhook_endpoint {
  probes::url url;
  std::string secret;                              // empty: no X-Watchpost-Signature header
  nanoseconds timeout = std::chrono::seconds(10);  // per attempt
};

struct retry_policy {
  int max_attempts = 5;
  nanoseconds initial_backoff = std::chrono::milliseconds(500);
  nanoseconds max_backoff = std::chrono::seconds(30);
  // A receiver's Retry-After raises the next wait up to this much (a hostile or confused
  // receiver must not park delivery for a day).
  nanoseconds max_retry_after = std::chrono::minutes(5);
};

// What an HTTP status means for delivery. 4xx other than 408/429 will not get better by
// retrying the same request (bad URL, bad signature, gone): such a failure is permanent and
// the event goes to the dead letters. 408, 429, 5xx and anything else are retried.
enum class status_class { delivered, retryable, permanent };
status_class classify_status(int status);

// Retry-After as delta-seconds ("120"), or nullopt for anything else (an HTTP-date, a
// negative or fractional number, garbage: the ordinary backoff applies then). Values beyond
// a day read as a day; callers cap further.
std::optional<nanoseconds> parse_retry_after(std::string_view value);

struct delivery_outcome {
  bool delivered = false;
  // The last attempt failed in a way no retry fixes (classify_status): retries stopped.
  bool permanent = false;
  int attempts = 0;
  int last_status = 0;     // HTTP status of the last attempt, 0 if none arrived
  std::string last_error;  // one line, secret-free; empty when delivered
  // Retry-After of the last answer when it was a 429 or 503, capped by max_retry_after: the
  // earliest moment the caller should try again.
  std::optional<nanoseconds> retry_after;
};

// Upper bound of the wait before attempt `attempt` (1-based retry number): initial * 2^(n-1),
// capped at max_backoff. The actual wait is uniform in [0, bound] ("full jitter").
nanoseconds backoff_bound(const retry_policy& policy, int retry_number);

// The wait before the next attempt: the jittered backoff, raised to retry_after when that is
// longer (a receiver's Retry-After is a lower bound).
nanoseconds next_wait(nanoseconds jittered_backoff, std::optional<nanoseconds> retry_after);

// POSTs json_body with Content-Type application/json, X-Watchpost-Event-Id,
// X-Watchpost-Timestamp (unix seconds of this attempt) and, when the secret is non-empty,
// X-Watchpost-Signature (webhook_signature). A 2xx ends it, so does a permanent failure;
// transport failures and retryable statuses are retried up to policy.max_attempts.
boost::asio::awaitable<delivery_outcome> deliver_webhook(
    const webhook_endpoint& endpoint, const std::string& event_id, const std::string& json_body,
    const retry_policy& policy, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

// Blocking form on a private io_context (CLI one-shots such as `smoke --on-fail-webhook`).
delivery_outcome deliver_webhook_now(const webhook_endpoint& endpoint, const std::string& event_id,
                                     const std::string& json_body, const retry_policy& policy,
                                     std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

}  // namespace watchpost::exporters
