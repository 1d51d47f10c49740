// Webhook delivery: one coroutine over the probe engine's HTTP client, so TLS, deadlines and
// the failure taxonomy are the same as for probes; signing and retry classification are plain
// functions beside it.
#include "watchpost/exporters/webhook.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <optional>
#include <random>

#include "watchpost/probes/http_client.hpp"

namespace watchpost::exporters {

namespace asio = boost::asio;

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xf]);
  }
  return out;
}

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text += '.';
  signed_text += body;
  return "sha256=" + hmac_sha256_hex(secret, signed_text);
}

status_class classify_status(int status) {
  if (status >= 200 && status < 300) return status_class::delivered;
  if (status >= 400 && status < 500 && status != 408 && status != 429) return status_class::permanent;
  return status_class::retryable;
}

std::optional<nanoseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  constexpr std::int64_t day = 24 * 3600;
  std::int64_t seconds = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = std::min(day, seconds * 10 + (c - '0'));  // saturates long before overflow
  }
  return std::chrono::seconds(seconds);
}

nanoseconds backoff_bound(const retry_policy& policy, int retry_number) {
  nanoseconds bound = policy.initial_backoff;
  for (int i = 1; i < retry_number && bound < policy.max_backoff; ++i) bound *= 2;
  return std::min(bound, policy.max_backoff);
}

nanoseconds next_wait(nanoseconds jittered_backoff, std::optional<nanoseconds> retry_after) {
  return retry_after ? std::max(jittered_backoff, *retry_after) : jittered_backoff;
}

namespace {

nanoseconds full_jitter(nanoseconds bound) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  if (bound.count() <= 0) return nanoseconds{0};
  return nanoseconds{std::uniform_int_distribution<std::int64_t>(0, bound.count())(rng)};
}

std::int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Retry-After counts only where HTTP gives it a meaning for a retry (429, 503).
std::optional<nanoseconds> retry_after_of(const probes::result& res, const retry_policy& policy) {
  if (res.status != 429 && res.status != 503) return std::nullopt;
  const std::string* value = res.header("Retry-After");
  if (!value) return std::nullopt;
  const auto parsed = parse_retry_after(*value);
  if (!parsed) return std::nullopt;
  return std::min(*parsed, std::max(policy.max_retry_after, nanoseconds{0}));
}

// Records one attempt's answer in the outcome; true when no further attempt should follow.
bool record_attempt(delivery_outcome& outcome, const probes::result& res, const retry_policy& policy) {
  outcome.last_status = res.status;
  outcome.retry_after.reset();
  if (!res.ok()) {
    // The client's error text is secret-free (it never echoes request headers).
    outcome.last_error = std::string(probes::to_string(res.failure)) + ": " + res.error;
    return false;
  }
  switch (classify_status(res.status)) {
    case status_class::delivered:
      outcome.delivered = true;
      outcome.last_error.clear();
      return true;
    case status_class::permanent:
      outcome.permanent = true;
      outcome.last_error = "HTTP status " + std::to_string(res.status) + " (permanent: not retried)";
      return true;
    case status_class::retryable:
      outcome.retry_after = retry_after_of(res, policy);
      outcome.last_error = "HTTP status " + std::to_string(res.status);
      return false;
  }
  return false;
}

}  // namespace

asio::awaitable<delivery_outcome> deliver_webhook(const webhook_endpoint& endpoint,
                                                  const std::string& event_id, const std::string& json_body,
                                                  const retry_policy& policy,
                                                  std::shared_ptr<asio::ssl::context> tls) {
  auto executor = co_await asio::this_coro::executor;
  probes::client_options options;
  options.total_timeout = endpoint.timeout;
  options.connect_timeout = std::min(endpoint.timeout, options.connect_timeout);
  options.tls_timeout = std::min(endpoint.timeout, options.tls_timeout);
  options.keep_alive = false;
  options.max_body_bytes = 64 * 1024;  // the receiver's answer is not interesting
  if (endpoint.url.tls) options.tls_context = tls ? tls : probes::make_tls_context({});
  probes::http_client client(executor, options);

  probes::request req;
  req.method = "POST";
  req.target = endpoint.url;
  req.body = json_body;
  req.headers.push_back({"Content-Type", "application/json"});
  req.headers.push_back({"User-Agent", "watchpost-webhook"});
  req.headers.push_back({"X-Watchpost-Event-Id", event_id});
  const std::size_t per_attempt = req.headers.size();  // timestamp and signature follow, renewed per attempt

  delivery_outcome outcome;
  const int attempts = std::max(1, policy.max_attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      asio::steady_timer timer(
          executor, next_wait(full_jitter(backoff_bound(policy, attempt - 1)), outcome.retry_after));
      co_await timer.async_wait(asio::use_awaitable);
    }
    // Stamped at send time, not at the event: a retry an hour later must still pass a receiver's
    // 5-minute tolerance, while a captured request replayed later must not.
    const std::int64_t now = unix_seconds_now();
    req.headers.resize(per_attempt);
    req.headers.push_back({"X-Watchpost-Timestamp", std::to_string(now)});
    if (!endpoint.secret.empty())
      req.headers.push_back({"X-Watchpost-Signature", webhook_signature(endpoint.secret, now, json_body)});
    outcome.attempts = attempt;
    if (record_attempt(outcome, co_await client.send(req), policy)) co_return outcome;
  }
  co_return outcome;
}

delivery_outcome deliver_webhook_now(const webhook_endpoint& endpoint, const std::string& event_id,
                                     const std::string& json_body, const retry_policy& policy,
                                     std::shared_ptr<asio::ssl::context> tls) {
  asio::io_context io;
  auto future = asio::co_spawn(io, deliver_webhook(endpoint, event_id, json_body, policy, std::move(tls)),
                               asio::use_future);
  io.run();
  return future.get();
}

}  // namespace watchpost::exporters
