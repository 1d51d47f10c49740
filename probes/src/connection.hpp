#pragma once
// A client's TCP socket and the one deadline of the operation in progress on it.
//
// One timer per probe, not one per socket operation (beast::tcp_stream arms and cancels a timer
// around every connect, write and read: ~12% of a probe's instructions at 1,000 probes/s). A
// phase that ends later than the armed expiry only moves the deadline; the timer re-arms itself
// when it fires early. On expiry the socket's pending operations are cancelled and timed_out()
// turns their operation_aborted into a timeout.
//
// The connect is non-blocking and not awaited when the caller can write at once: on loopback
// the handshake completes inside connect(), and the first send confirms it (no wait for
// writability, no poll and getsockopt after it). Sends and receives are the socket's own
// system calls; the socket joins the reactor (epoll_ctl) only when one of them has to wait, so a
// probe whose answer is there when it reads costs socket, connect, send, recv and close.
//
// Plain http may go through the worker's io_uring instead (probe_ring.hpp): the socket, then a
// linked connect, send and receive, and the close are queued on the ring, so the probes a worker
// starts in one turn of its loop share one io_uring_enter. The one deadline cancels what is
// pending on the ring; the operation then ends with ECANCELED and timed_out().
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <tuple>

#include "probe_ring.hpp"
#include "watchpost/common/duration.hpp"

namespace watchpost::probes::detail {

// Shared with the timer's handler, which may run after the client is gone.
class connection final : public std::enable_shared_from_this<connection>, private probe_ring::waiter {
 public:
  using time_point = monotonic_clock::time_point;
  using error_code = boost::system::error_code;

  explicit connection(const boost::asio::any_io_executor& executor);

  // Opens a socket and starts connecting: would_block while the handshake is under way.
  error_code start_connect(const boost::asio::ip::tcp::endpoint& endpoint);
  // The outcome of a connect once the socket is writable.
  error_code connect_result();
  // Sends what the socket takes now (would_block when nothing); SIGPIPE is not raised.
  std::size_t send_some(boost::asio::const_buffer data, error_code& ec);
  // Receives what has arrived: would_block when nothing, eof once the peer has closed.
  std::size_t receive_some(boost::asio::mutable_buffer into, error_code& ec);
  void set_no_delay();
  // Hands the descriptor to `socket` (and the reactor): before an asynchronous wait or TLS.
  error_code use_reactor();
  void close();

  // The current phase ends at `at`.
  void set_deadline(time_point at);
  // The operation is over: the timer stops and timed_out() is false again.
  void clear_deadline();
  bool timed_out() const { return timed_out_; }

  // The io_uring path, for plain http where the worker's ring works.
  bool ring_available();
  // Where the next ring_exchange connects to: its socket and connect go with the send.
  void ring_open(const boost::asio::ip::tcp::endpoint& endpoint);
  bool on_ring() const { return on_ring_; }
  struct ring_outcome {
    error_code connect, send, receive;  // the first failed stage's error only
    std::size_t received = 0;
    time_point connected_at{}, sent_at{};
  };
  // Connects if ring_open() came before, sends `request` whole and receives what arrives first
  // into `into`. Once connected, the deadline moves to `after_connect`.
  boost::asio::awaitable<void> ring_exchange(boost::asio::const_buffer request,
                                             boost::asio::mutable_buffer into, time_point after_connect,
                                             ring_outcome& out);
  boost::asio::awaitable<std::tuple<error_code, std::size_t>> ring_receive(boost::asio::mutable_buffer into);

  boost::asio::ip::tcp::socket socket;  // open once use_reactor() took the descriptor

 private:
  void arm(time_point at);
  void expired(unsigned generation);
  void completed(unsigned tag, int result) override;
  void queue_exchange(bool connect);
  void finish();
  boost::asio::awaitable<void> wait_ring();

  int fd_ = -1;
  boost::asio::ip::tcp protocol_ = boost::asio::ip::tcp::v4();
  boost::asio::steady_timer timer_;
  time_point deadline_{};
  unsigned generation_ = 0;  // a handler of an earlier arming that fired late is ignored
  bool armed_ = false;
  bool timed_out_ = false;

  probe_ring* ring_ = nullptr;
  bool ring_looked_up_ = false;
  bool on_ring_ = false;
  bool no_delay_on_open_ = false;  // asked for before the ring's socket existed
  boost::asio::ip::tcp::endpoint remote_;
  // The operation in flight on the ring: its buffers, where it reports, and the client's
  // connection kept alive until it ends. `ended_` wakes the awaiting coroutine (a cancel).
  bool ring_busy_ = false;
  boost::asio::const_buffer request_;
  boost::asio::mutable_buffer into_;
  time_point after_connect_{};
  ring_outcome* out_ = nullptr;
  std::shared_ptr<connection> self_;
  boost::asio::steady_timer ended_;
};

}  // namespace watchpost::probes::detail
