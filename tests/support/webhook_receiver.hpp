#pragma once
// A loopback webhook receiver with fault modes, for tests of delivery, retries and ordering:
// plain sockets, one accept thread and one thread per connection (so a slow answer delays only
// its own request). One request per connection, answered with Connection: close.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace watchpost::testing {

// A loopback port that was free a moment ago (for servers that must come up later).
std::uint16_t reserve_port();

// One request as it arrived.
struct received_webhook {
  std::string method;
  std::string target;                                        // "/hook"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in arrival order
  std::string event_id;                                      // X-Watchpost-Event-Id
  std::string timestamp;                                     // X-Watchpost-Timestamp
  std::string signature;                                     // X-Watchpost-Signature
  std::string body;
  std::chrono::steady_clock::time_point arrived;  // when the whole request had been read
  int answered = 0;                               // the status the receiver answered with

  // First header of this name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

// "sha256=<hex>" of HMAC-SHA256(secret, "<timestamp>.<body>"), computed with OpenSSL's one-shot
// MAC API, independently of the code under test.
std::string expected_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

class webhook_receiver {
 public:
  // Binds 127.0.0.1:port (0 = ephemeral); answers 200 until a fault mode says otherwise.
  explicit webhook_receiver(std::uint16_t port = 0);
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;

  // Every complete request so far, in arrival order (thread-safe copies).
  std::vector<received_webhook> received() const;
  std::size_t count() const;
  // Blocks until at least n requests arrived or the timeout passed; true when they did.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

  // Fault modes, settable at run time from any thread; they apply to requests arriving later.
  // The next n requests get `status` (with Retry-After: retry_after when non-empty).
  void fail_next(int n, int status = 503, const std::string& retry_after = "");
  // Requests arriving within `duration` from now get `status`.
  void fail_for(std::chrono::milliseconds duration, int status = 503, const std::string& retry_after = "");
  // Every request gets `status` (e.g. 401) until reset(). fail_next/fail_for take precedence.
  void answer_always(int status);
  // Slow: each answer is written `delay` after its request arrived.
  void delay_answers(std::chrono::milliseconds delay);
  // Back to 200 at once, no delay.
  void reset();

  // Closed port: stops listening (new connections are refused, queued ones reset). Returns
  // once the socket is closed.
  void go_down();
  // Listens again on the same port; throws std::runtime_error if it was taken meanwhile.
  void come_up();
  bool is_up() const;

 private:
  struct answer {
    int status = 200;
    std::string retry_after;
    std::chrono::milliseconds delay{0};
  };
  struct worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void accept_loop();
  void serve_connection(int fd);
  answer next_answer();
  void record(received_webhook request);

  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};

  // Listening socket: owned by the accept thread; go_down/come_up hand it over under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable listen_changed_;
  int listen_fd_ = -1;
  bool want_down_ = false;
  int pending_fd_ = -1;  // bound by come_up, adopted by the accept thread

  // Fault modes (mutex_).
  int fail_next_left_ = 0;
  int fail_next_status_ = 503;
  std::string fail_next_retry_after_;
  std::chrono::steady_clock::time_point fail_until_{};
  int fail_for_status_ = 503;
  std::string fail_for_retry_after_;
  int always_status_ = 200;
  std::chrono::milliseconds delay_{0};

  // Requests (mutex_).
  std::vector<received_webhook> received_;
  mutable std::condition_variable arrived_;

  std::vector<worker> workers_;  // accept thread only, then the destructor
  std::thread accept_thread_;
};

}  // namespace watchpost::testing
