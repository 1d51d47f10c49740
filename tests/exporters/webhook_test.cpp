// Webhook delivery against a real loopback receiver with fault modes: the signing scheme
// (checked with OpenSSL here, not with the code under test), which failures are retried, and
// Retry-After.
#include "watchpost/exporters/webhook.hpp"

#include <catch2/catch.hpp>
#include <future>
#include <string>
#include <thread>
#include <variant>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "watchpost/probes/url.hpp"
#include "webhook_receiver.hpp"

using namespace watchpost;
using namespace std::chrono_literals;
using testing::webhook_receiver;

namespace {

const std::string secret = "whsec-test-4b1e";
const std::string body = R"({"event":"breached","event_id":"ev-1","target":"api"})";

exporters::webhook_endpoint endpoint_of(const webhook_receiver& receiver, nanoseconds timeout = 2s) {
  return {std::get<probes::url>(probes::parse_url(receiver.url())), secret, timeout};
}

// Fast retries so that measured waits are the receiver's doing, not the backoff's.
exporters::retry_policy quick(int attempts) {
  exporters::retry_policy p;
  p.max_attempts = attempts;
  p.initial_backoff = 20ms;
  p.max_backoff = 50ms;
  return p;
}

exporters::delivery_outcome deliver(const webhook_receiver& receiver, const exporters::retry_policy& policy,
                                    nanoseconds timeout = 2s) {
  return exporters::deliver_webhook_now(endpoint_of(receiver, timeout), "ev-1", body, policy);
}

// The verdict of an outcome in one line: a failed CHECK shows all of it at once.
std::string verdict(const exporters::delivery_outcome& o) {
  const char* how = o.delivered ? "delivered" : o.permanent ? "permanent failure" : "retryable failure";
  return std::string(how) + " after " + std::to_string(o.attempts) + ", last status " +
         std::to_string(o.last_status);
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("classify_status: 4xx other than 408 and 429 are permanent, the rest is retried", "[webhook]") {
  using exporters::status_class;
  for (int s : {200, 201, 204, 299}) CHECK(exporters::classify_status(s) == status_class::delivered);
  for (int s : {400, 401, 403, 404, 405, 409, 410, 413, 422, 499})
    CHECK(exporters::classify_status(s) == status_class::permanent);
  for (int s : {408, 429, 500, 502, 503, 504, 599, 301, 302, 100})
    CHECK(exporters::classify_status(s) == status_class::retryable);
}

TEST_CASE("parse_retry_after reads delta-seconds and nothing else", "[webhook]") {
  CHECK(exporters::parse_retry_after("0") == nanoseconds(0s));
  CHECK(exporters::parse_retry_after("120") == nanoseconds(120s));
  CHECK(exporters::parse_retry_after(" 7 ") == nanoseconds(7s));
  CHECK(exporters::parse_retry_after("99999999999999999999999") ==
        nanoseconds(24h));  // saturates, no overflow
  for (const char* bad : {"", " ", "-1", "1.5", "+3", "3s", "0x10", "Wed, 21 Oct 2015 07:28:00 GMT"}) {
    INFO(bad);
    CHECK_FALSE(exporters::parse_retry_after(bad).has_value());
  }
}

TEST_CASE("next_wait takes Retry-After as a lower bound of the backoff", "[webhook]") {
  CHECK(exporters::next_wait(300ms, std::nullopt) == nanoseconds(300ms));
  CHECK(exporters::next_wait(300ms, nanoseconds(2s)) == nanoseconds(2s));
  CHECK(exporters::next_wait(3s, nanoseconds(2s)) == nanoseconds(3s));
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 2", "[webhook]") {
  CHECK(exporters::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("backoff bound doubles up to the cap", "[webhook]") {
  exporters::retry_policy p{5, 500ms, 3s};
  CHECK(exporters::backoff_bound(p, 1) == 500ms);
  CHECK(exporters::backoff_bound(p, 2) == 1s);
  CHECK(exporters::backoff_bound(p, 3) == 2s);
  CHECK(exporters::backoff_bound(p, 4) == 3s);
}

TEST_CASE("webhook_signature is HMAC-SHA256 over timestamp.body", "[webhook]") {
  const std::string sig = exporters::webhook_signature(secret, 1764115200, body);
  CHECK(sig == testing::expected_signature(secret, "1764115200", body));
  CHECK(sig != exporters::webhook_signature(secret, 1764115201, body));  // the timestamp is covered
  CHECK(sig != testing::expected_signature(secret, "", body));
  CHECK(sig.find(secret) == std::string::npos);
}

TEST_CASE("every attempt carries its own timestamp and a signature over it, and Retry-After is honoured",
          "[webhook]") {
  webhook_receiver receiver;
  receiver.fail_next(1, 503, "1");
  const std::int64_t before = unix_now();
  const auto outcome = deliver(receiver, quick(3));
  const std::int64_t after = unix_now();
  CHECK(verdict(outcome) == "delivered after 2, last status 200");
  const auto got = receiver.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].answered == 503);
  CHECK(got[1].answered == 200);
  // The 20-50 ms backoff was raised to the receiver's 1 s.
  CHECK(got[1].arrived - got[0].arrived >= 1s);
  for (const auto& w : got) {
    REQUIRE_FALSE(w.timestamp.empty());
    const std::int64_t ts = std::stoll(w.timestamp);
    CHECK(ts >= before);
    CHECK(ts <= after);
    CHECK(w.signature == testing::expected_signature(secret, w.timestamp, w.body));
    CHECK(w.event_id == "ev-1");
    CHECK(w.body == body);
    CHECK(w.header("content-type") == "application/json");
  }
  CHECK(std::stoll(got[1].timestamp) > std::stoll(got[0].timestamp));  // stamped per attempt, not per event
}

TEST_CASE("503 twice then 200: delivered on the third attempt", "[webhook]") {
  webhook_receiver receiver;
  receiver.fail_next(2, 503);
  const auto outcome = deliver(receiver, quick(5));
  CHECK(verdict(outcome) == "delivered after 3, last status 200");
  CHECK(outcome.last_error.empty());
  const auto got = receiver.received();
  REQUIRE(got.size() == 3);
  CHECK(got[0].answered == 503);
  CHECK(got[1].answered == 503);
  CHECK(got[2].answered == 200);
  for (const auto& w : got) CHECK(w.event_id == "ev-1");
}

TEST_CASE("401 is permanent: one attempt, no retry", "[webhook]") {
  webhook_receiver receiver;
  receiver.answer_always(401);
  const auto outcome = deliver(receiver, quick(5));
  CHECK(verdict(outcome) == "permanent failure after 1, last status 401");
  CHECK_THAT(outcome.last_error, Catch::Contains("401"));
  CHECK(outcome.last_error.find(secret) == std::string::npos);
  CHECK(receiver.count() == 1);
}

TEST_CASE("408, 429 and 5xx are retried", "[webhook]") {
  for (int status : {408, 429, 500, 502}) {
    INFO(status);
    webhook_receiver receiver;
    receiver.fail_next(1, status);
    const auto outcome = deliver(receiver, quick(3));
    CHECK(verdict(outcome) == "delivered after 2, last status 200");
    CHECK(receiver.count() == 2);
  }
}

TEST_CASE("retries end after max_attempts and the last Retry-After of a 503 is in the outcome", "[webhook]") {
  webhook_receiver receiver;
  receiver.fail_for(30s, 503, "7");
  const auto outcome = deliver(receiver, quick(1));
  CHECK(verdict(outcome) == "retryable failure after 1, last status 503");
  REQUIRE(outcome.retry_after.has_value());
  CHECK(*outcome.retry_after == nanoseconds(7s));
  CHECK(receiver.count() == 1);
}

TEST_CASE("Retry-After is capped by max_retry_after and ignored on a 500", "[webhook]") {
  SECTION("capped") {
    webhook_receiver receiver;
    receiver.fail_next(1, 429, "3600");
    auto policy = quick(2);
    policy.max_retry_after = 300ms;
    const auto outcome = deliver(receiver, policy);
    CHECK(outcome.delivered);
    const auto got = receiver.received();
    REQUIRE(got.size() == 2);
    CHECK(got[1].arrived - got[0].arrived >= 300ms);
    CHECK(got[1].arrived - got[0].arrived < 3s);
  }
  SECTION("a 500 has no Retry-After semantics") {
    webhook_receiver receiver;
    receiver.fail_for(30s, 500, "5");
    const auto outcome = deliver(receiver, quick(2));
    CHECK_FALSE(outcome.delivered);
    CHECK_FALSE(outcome.retry_after.has_value());
    const auto got = receiver.received();
    REQUIRE(got.size() == 2);
    CHECK(got[1].arrived - got[0].arrived < 1s);
  }
}

TEST_CASE("a receiver that is down and comes back on the same port gets the event once", "[webhook]") {
  webhook_receiver receiver;
  receiver.go_down();
  CHECK_FALSE(receiver.is_up());
  auto policy = quick(200);  // about 10 s of retries: a stalled test machine must not run out of them
  policy.max_backoff = 100ms;
  auto delivery = std::async(std::launch::async, [&] { return deliver(receiver, policy); });
  std::this_thread::sleep_for(600ms);
  CHECK(receiver.count() == 0);
  REQUIRE(delivery.wait_for(0s) == std::future_status::timeout);  // still retrying connect failures
  receiver.come_up();
  const auto outcome = delivery.get();
  CHECK(outcome.delivered);
  CHECK(outcome.attempts >= 2);
  CHECK(receiver.count() == 1);
}

TEST_CASE("a slow receiver: an answer past the attempt timeout is a retryable timeout", "[webhook]") {
  webhook_receiver receiver;
  SECTION("past the timeout") {
    receiver.delay_answers(1500ms);
    const auto outcome = deliver(receiver, quick(2), 300ms);
    CHECK(verdict(outcome) == "retryable failure after 2, last status 0");
    CHECK_THAT(outcome.last_error, Catch::StartsWith("timeout"));
    CHECK(receiver.count() == 2);  // both arrived; neither answer was waited for
  }
  SECTION("within the timeout") {
    receiver.delay_answers(300ms);
    const auto start = std::chrono::steady_clock::now();
    const auto outcome = deliver(receiver, quick(2), 2s);
    CHECK(outcome.delivered);
    CHECK(outcome.attempts == 1);
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  }
}

TEST_CASE("the receiver's timed fault mode ends by itself", "[webhook]") {
  webhook_receiver receiver;
  receiver.fail_for(300ms, 503);
  CHECK_FALSE(deliver(receiver, quick(1)).delivered);
  std::this_thread::sleep_for(400ms);
  CHECK(deliver(receiver, quick(1)).delivered);
}
