#pragma once
// One load connection: a small callback state machine (connect -> TLS handshake -> write ->
// wait readable -> read into the worker's shared buffer -> parse), a few hundred bytes each.
// engine.hpp has the rules for what every intended request becomes.
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "transport.hpp"
#include "watchpost/common/duration.hpp"
#include "watchpost/loadgen/response_parser.hpp"
#include "watchpost/probes/failure.hpp"

namespace watchpost::loadgen {

class worker;

class connection {
 public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;

  connection(worker& w, std::size_t index);
  void start();
  void stop();
  // Called by the worker's sweep: closes an exchange (or connect) past its deadline.
  void check_deadline(time_point now);
  void resume();  // a parked connection may work again
  bool parked() const { return parked_; }
  bool started() const { return started_; }
  // The run ends now: a request still unanswered is counted as in flight, or as a timeout
  // when it is already past its deadline.
  void end_of_run(time_point now);
  // io_uring: one of this connection's operations completed (the worker routes it by tag).
  void on_completion(const uring::completion& c);
  static std::size_t index_of(std::uint64_t tag) { return static_cast<std::size_t>(tag >> 32); }

 private:
  enum class phase : std::uint8_t { idle, connecting, handshaking, waiting_slot, in_flight, backoff };
  enum class ring_op : std::uint8_t { connect = 1, send, receive, backoff, slot };  // no tag is 0
  using step = void (connection::*)();

  void connect();
  void on_connect(const boost::system::error_code& ec);
  void connect_failed(probes::failure_kind kind);
  void handshake();
  void ready();  // connected (and TLS established): start the first request
  // Waits until the socket can do what `want` asks, then runs `next` (or fails the exchange).
  void await(io_result want, step next);
  void next_request();
  void send();
  void write_request();
  void wait_readable();
  void read_response();
  // One read's outcome for the exchange: bytes, the peer's close or a failure. False when the
  // exchange ended (completed or failed) with it.
  bool took(io_result r, const char* data, std::size_t n);
  std::uint64_t tag(ring_op op) const {
    return std::uint64_t{index_} << 32 | std::uint64_t{transport_.attempt() & 0xFFFFFFu} << 8 |
           static_cast<std::uint8_t>(op);
  }
  // Runs connect() (backoff) or send() (slot) at `at`: on the ring or on the Asio timer.
  void wake_at(time_point at, ring_op then);
  void send_on_ring();
  void on_sent(int result);
  void on_received(const uring::completion& c);
  void yield_read();
  void closed_before_response();
  void resend();
  void complete();
  void fail(probes::failure_kind kind);
  void release_capture();
  void reconnect_after(nanoseconds delay);

  worker& w_;
  std::size_t index_;
  transport transport_;
  boost::asio::steady_timer timer_;
  response_parser parser_;
  std::unique_ptr<response_capture> capture_;  // set while a sampled response is in flight
  std::size_t request_ = 0;
  std::size_t written_ = 0;  // bytes of the current request sent so far
  time_point intended_{}, sent_{}, deadline_{};
  nanoseconds backoff_{0};
  std::size_t endpoint_ = 0;
  phase phase_ = phase::idle;
  bool connected_ = false;
  bool timed_out_ = false;
  bool parked_ = false;
  bool started_ = false;
  bool reused_ = false;    // this transport already carried a complete exchange
  bool answered_ = false;  // a byte of the current response arrived
  bool resent_ = false;    // the current request was already resent once
  bool resend_ = false;    // reconnecting to resend the current request
  // io_uring only:
  bool send_pending_ = false;  // a send is in the ring
  bool stale_send_ = false;    // ... and it was the last exchange's (its response came first)
  bool peer_closed_ = false;   // the receive saw the peer close between exchanges
  __kernel_timespec wake_{};   // the pending timeout's time (the kernel reads it at submission)
};

}  // namespace watchpost::loadgen
