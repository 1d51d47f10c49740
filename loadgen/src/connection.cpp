// The connection state machine. Handlers capture one pointer, so Asio's per-thread recycling
// allocator serves every operation: steady state allocates nothing per request.
#include "connection.hpp"

#include <boost/asio/post.hpp>
#include <cerrno>
#include <utility>

#include "worker.hpp"

namespace watchpost::loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using probes::failure_kind;
using clock_type = connection::clock_type;
using time_point = connection::time_point;

connection::connection(worker& w, std::size_t index)
    : w_(w), index_(index), transport_(w.context(), w.ring()), timer_(w.context()) {}

void connection::start() {
  started_ = true;
  parked_ = false;
  connect();
}

void connection::stop() {
  transport_.close();
  timer_.cancel();
}

void connection::resume() {
  if (!parked_) return;
  parked_ = false;
  if (connected_)
    next_request();
  else
    connect();
}

void connection::connect() {
  if (w_.stopping()) return;
  transport_.close();
  connected_ = false;
  reused_ = false;
  timed_out_ = false;
  phase_ = phase::connecting;
  deadline_ = clock_type::now() + w_.options().connect_timeout;
  const auto& endpoints = w_.target().endpoints;
  if (endpoints.empty()) {  // the name did not resolve: each attempt is a dns failure, not a setup error
    connect_failed(failure_kind::dns);
    return;
  }
  const tcp::endpoint& ep = endpoints[(endpoint_ + index_) % endpoints.size()];
  if (transport_.on_ring()) {
    send_pending_ = stale_send_ = peer_closed_ = false;
    if (!transport_.open_raw(ep.protocol().family()))
      on_connect(boost::system::error_code(errno, boost::system::system_category()));
    else
      transport_.start_connect(ep, tag(ring_op::connect));
    return;
  }
  transport_.socket().async_connect(ep, [this](const boost::system::error_code& ec) { on_connect(ec); });
}

void connection::on_connect(const boost::system::error_code& ec) {
  if (w_.stopping()) return;
  if (ec) {
    ++endpoint_;  // try the next address of the name next time
    connect_failed(timed_out_ ? failure_kind::connect_timeout : failure_kind::connect);
    return;
  }
  if (!transport_.connected(w_.target())) {
    connect_failed(failure_kind::tls_handshake);
    return;
  }
  if (!transport_.secure()) {
    if (transport_.on_ring()) transport_.start_receive(tag(ring_op::receive));  // armed until it ends
    ready();
    return;
  }
  phase_ = phase::handshaking;  // still under the connect deadline
  handshake();
}

void connection::handshake() {
  if (w_.stopping()) return;
  switch (transport_.handshake()) {
    case io_result::done:
      ready();
      return;
    case io_result::want_read:
      await(io_result::want_read, &connection::handshake);
      return;
    case io_result::want_write:
      await(io_result::want_write, &connection::handshake);
      return;
    default: {
      const bool rejected = transport_.verify_failed() && !timed_out_;
      connect_failed(rejected ? failure_kind::tls_verify : failure_kind::tls_handshake);
      return;
    }
  }
}

void connection::connect_failed(failure_kind kind) {
  transport_.close();
  if (resend_) {
    // The reconnect for a resend failed: that request fails with it.
    resend_ = false;
    release_capture();
  } else {
    // A failed connect uses up one request slot, so -n still ends and errors are counted.
    time_point ignored_intended;
    if (!w_.claim(ignored_intended, clock_type::now())) {
      phase_ = phase::idle;
      return;
    }
  }
  w_.record_error(kind);
  if (w_.stopping()) return;
  backoff_ = std::min<nanoseconds>(std::max<nanoseconds>(backoff_ * 2, std::chrono::milliseconds(10)),
                                   std::chrono::seconds(1));
  reconnect_after(backoff_);
}

void connection::ready() {
  connected_ = true;
  backoff_ = nanoseconds{0};
  if (resend_)
    resend();
  else
    next_request();
}

void connection::reconnect_after(nanoseconds delay) {
  phase_ = phase::backoff;
  wake_at(clock_type::now() + delay, ring_op::backoff);
}

void connection::wake_at(time_point at, ring_op then) {
  if (transport_.on_ring()) {
    const auto ns = std::chrono::duration_cast<nanoseconds>(at.time_since_epoch()).count();
    wake_ = {ns / 1'000'000'000, ns % 1'000'000'000};
    w_.ring()->timeout(wake_, tag(then));
    return;
  }
  timer_.expires_at(at);
  timer_.async_wait([this, then](const boost::system::error_code& ec) {
    if (ec || w_.stopping()) return;
    if (then == ring_op::backoff)
      connect();
    else
      send();
  });
}

void connection::await(io_result want, step next) {
  const auto what = want == io_result::want_read ? tcp::socket::wait_read : tcp::socket::wait_write;
  transport_.socket().async_wait(what, [this, next](const boost::system::error_code& ec) {
    if (w_.stopping()) return;
    if (!ec) {
      (this->*next)();
    } else if (phase_ == phase::handshaking) {
      connect_failed(failure_kind::tls_handshake);
    } else {
      fail(timed_out_ ? failure_kind::timeout : failure_kind::reset);
    }
  });
}

void connection::next_request() {
  if (w_.stopping()) return;
  if (!w_.may_work(index_)) {
    parked_ = true;
    phase_ = phase::idle;
    return;
  }
  const time_point now = clock_type::now();
  if (!w_.claim(intended_, now)) {
    phase_ = phase::idle;
    return;
  }
  if (w_.open_model()) {
    if (intended_ > now) {
      phase_ = phase::waiting_slot;
      wake_at(intended_, ring_op::slot);
      return;
    }
  }
  send();
}

void connection::send() {
  request_ = w_.pick_request();
  capture_ = w_.sample(request_);
  parser_.reset(w_.plan().requests[request_].head, capture_.get());
  sent_ = clock_type::now();
  if (!w_.open_model()) intended_ = sent_;
  resent_ = false;
  deadline_ = sent_ + w_.options().timeout;
  phase_ = phase::in_flight;
  timed_out_ = false;
  answered_ = false;
  written_ = 0;
  write_request();
}

// The same request again on a new connection, still under its first send's deadline.
void connection::resend() {
  resend_ = false;
  resent_ = true;
  parser_.reset(w_.plan().requests[request_].head, capture_.get());
  deadline_ = sent_ + w_.options().timeout;
  phase_ = phase::in_flight;
  answered_ = false;
  written_ = 0;
  write_request();
}

// The server closed the connection before any byte of this response arrived. On a reused
// connection that is an idle keep-alive close racing the request, which the server never
// read: an idempotent request is resent once on a new connection (as browsers, k6 and Go's
// client do); any other is a reset, with the reason among the failure messages.
void connection::closed_before_response() {
  if (timed_out_) {
    fail(failure_kind::timeout);
  } else if (!reused_ || resent_) {
    fail(failure_kind::reset);
  } else if (!w_.plan().requests[request_].idempotent) {
    phase_ = phase::idle;
    connected_ = false;
    release_capture();
    w_.record_idle_close(request_);
    if (!w_.stopping()) connect();
  } else {
    w_.record_reconnect();
    resend_ = true;
    connect();
  }
}

void connection::write_request() {
  if (transport_.on_ring()) {
    send_on_ring();
    return;
  }
  // Requests are small: one non-blocking send usually takes all of it, no reactor round trip.
  const std::string& wire = w_.plan().requests[request_].wire;
  while (written_ < wire.size()) {
    std::size_t n = 0;
    const io_result r = transport_.write_some(wire.data() + written_, wire.size() - written_, n);
    if (r == io_result::want_read || r == io_result::want_write) {
      await(r, &connection::write_request);
      return;
    }
    if (r != io_result::done) {
      closed_before_response();
      return;
    }
    written_ += n;
  }
  wait_readable();
}

void connection::wait_readable() { await(io_result::want_read, &connection::read_response); }

void connection::read_response() {
  // A fast endless body must not hold the thread: after this many bytes the handler yields,
  // so deadlines, -d and SIGINT run between turns.
  std::size_t budget = 4 * w_.read_buffer_size();
  for (;;) {
    std::size_t n = 0;
    const io_result r = transport_.read_some(w_.read_buffer(), w_.read_buffer_size(), n);
    if (r == io_result::want_read || r == io_result::want_write) {
      await(r, &connection::read_response);
      return;
    }
    if (!took(r, w_.read_buffer(), n)) return;
    // A short plain read drained the socket: the rest comes with the next readiness event.
    // (TLS may hold decrypted bytes the socket no longer shows, so it reads until want_read.)
    if (!transport_.secure() && n < w_.read_buffer_size()) {
      wait_readable();
      return;
    }
    if (n >= budget) {
      yield_read();
      return;
    }
    budget -= n;
  }
}

bool connection::took(io_result r, const char* data, std::size_t n) {
  if ((r == io_result::closed || r == io_result::failed) && !answered_) {
    closed_before_response();
    return false;
  }
  if (r == io_result::closed) {
    parser_.on_eof();
    if (parser_.done()) {
      connected_ = false;
      complete();
    } else {
      fail(failure_kind::reset);
    }
    return false;
  }
  if (r == io_result::failed) {
    fail(failure_kind::reset);
    return false;
  }
  answered_ = answered_ || n != 0;
  w_.add_bytes(n);
  parser_.feed(data, n);
  if (parser_.failed()) {
    fail(failure_kind::protocol);
    return false;
  }
  if (parser_.done()) {
    complete();
    return false;
  }
  return true;
}

void connection::yield_read() {
  asio::post(w_.context(), [this] {
    if (w_.stopping()) return;
    if (timed_out_)
      fail(failure_kind::timeout);
    else
      read_response();
  });
}

void connection::complete() {
  const time_point done = clock_type::now();
  phase_ = phase::idle;
  w_.record_response(parser_.status(), request_, intended_, sent_, done, capture_.get());
  release_capture();
  reused_ = true;
  if (w_.stopping()) return;
  if (parser_.keep_alive() && connected_)
    next_request();
  else
    connect();
}

void connection::release_capture() {
  if (capture_) w_.give_back(std::move(capture_));
}

void connection::fail(failure_kind kind) {
  phase_ = phase::idle;
  connected_ = false;
  release_capture();
  w_.record_error(kind);
  if (w_.stopping()) return;
  // A server that closes or resets connections is reconnected at once; if the reconnect is
  // refused, on_connect backs off.
  connect();
}

void connection::end_of_run(time_point now) {
  if (phase_ == phase::in_flight || resend_) w_.record_unanswered(now >= sent_ + w_.options().timeout);
}

void connection::check_deadline(time_point now) {
  if ((phase_ == phase::connecting || phase_ == phase::handshaking || phase_ == phase::in_flight) &&
      now >= deadline_) {
    timed_out_ = true;
    transport_.abort();
  }
}

void connection::on_completion(const uring::completion& c) {
  if (w_.stopping() || (c.tag >> 8 & 0xFFFFFFu) != (transport_.attempt() & 0xFFFFFFu))
    return;  // an earlier socket's
  transport_.settled(c.tag, c.more);
  const auto op = static_cast<ring_op>(c.tag & 0xFFu);
  if (op == ring_op::backoff) {
    connect();
    return;
  }
  if (op == ring_op::slot) {
    send();
    return;
  }
  if (!transport_.raw_open()) {
    // check_deadline closed the socket: the attempt's first completion after that ends it, as
    // the aborted wait does on the epoll back end.
    if (phase_ == phase::connecting)
      on_connect(asio::error::operation_aborted);
    else if (phase_ == phase::in_flight)
      fail(failure_kind::timeout);
    return;
  }
  switch (op) {
    case ring_op::connect:
      on_connect(c.result < 0 ? boost::system::error_code(-c.result, boost::system::system_category())
                              : boost::system::error_code());
      return;
    case ring_op::send:
      on_sent(c.result);
      return;
    case ring_op::receive:
      on_received(c);
      return;
    default:
      return;  // the timeouts, above
  }
}

void connection::send_on_ring() {
  if (peer_closed_) {  // what a write and then a read would find on the epoll back end
    closed_before_response();
    return;
  }
  if (send_pending_) {  // the last exchange's send completes first, then this one goes
    stale_send_ = true;
    return;
  }
  send_pending_ = true;
  const std::string& wire = w_.plan().requests[request_].wire;
  transport_.start_send(wire.data() + written_, wire.size() - written_, tag(ring_op::send));
}

void connection::on_sent(int result) {
  send_pending_ = false;
  if (std::exchange(stale_send_, false)) {
    send_on_ring();
    return;
  }
  if (phase_ != phase::in_flight) return;  // the response already came (and the exchange ended)
  if (result <= 0) {
    closed_before_response();
    return;
  }
  written_ += static_cast<std::size_t>(result);
  if (written_ < w_.plan().requests[request_].wire.size()) send_on_ring();
}

void connection::on_received(const uring::completion& c) {
  const std::uint32_t attempt = transport_.attempt();
  if (c.result > 0) {
    // Bytes between exchanges are not a response to anything: dropped.
    if (phase_ == phase::in_flight) took(io_result::done, c.data, static_cast<std::size_t>(c.result));
  } else if (c.result != -ENOBUFS) {  // ENOBUFS: the worker's buffers ran out for a moment, nothing lost
    // The receive ended: the peer closed (0) or the connection failed.
    if (phase_ == phase::in_flight)
      took(c.result == 0 ? io_result::closed : io_result::failed, nullptr, 0);
    else
      peer_closed_ = true;
    return;
  }
  if (!c.more && transport_.attempt() == attempt && transport_.raw_open())
    transport_.start_receive(tag(ring_op::receive));
}

}  // namespace watchpost::loadgen
