// Webhook delivery: one coroutine over the probe engine's HTTP client, so TLS, deadlines and
// the failure taxonomy are the same as for probes.
#include "watchpost/agent/webhook.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <random>

#include "watchpost/probes/http_client.hpp"

namespace watchpost::agent {

namespace asio = boost::asio;

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xf]);
  }
  return out;
}

nanoseconds backoff_bound(const retry_policy& policy, int retry_number) {
  nanoseconds bound = policy.initial_backoff;
  for (int i = 1; i < retry_number && bound < policy.max_backoff; ++i) bound *= 2;
  return std::min(bound, policy.max_backoff);
}

namespace {

nanoseconds full_jitter(nanoseconds bound) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  if (bound.count() <= 0) return nanoseconds{0};
  return nanoseconds{std::uniform_int_distribution<std::int64_t>(0, bound.count())(rng)};
}

}  // namespace

asio::awaitable<delivery_outcome> deliver_webhook(const webhook_endpoint& endpoint, const std::string& event_id,
                                                 const std::string& json_body, const retry_policy& policy,
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
  if (!endpoint.secret.empty())
    req.headers.push_back({"X-Watchpost-Signature", "sha256=" + hmac_sha256_hex(endpoint.secret, json_body)});

  delivery_outcome outcome;
  const int attempts = std::max(1, policy.max_attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      asio::steady_timer timer(executor, full_jitter(backoff_bound(policy, attempt - 1)));
      co_await timer.async_wait(asio::use_awaitable);
    }
    outcome.attempts = attempt;
    const probes::result res = co_await client.send(req);
    outcome.last_status = res.status;
    if (!res.ok()) {
      // The client's error text is secret-free (it never echoes request headers).
      outcome.last_error = std::string(probes::to_string(res.failure)) + ": " + res.error;
      continue;
    }
    if (res.status >= 200 && res.status < 300) {
      outcome.delivered = true;
      outcome.last_error.clear();
      co_return outcome;
    }
    outcome.last_error = "HTTP status " + std::to_string(res.status);
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

}  // namespace watchpost::agent
