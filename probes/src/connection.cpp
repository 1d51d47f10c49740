// A client's TCP socket and its deadline: see connection.hpp.
#include "connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace watchpost::probes::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

connection::connection(const asio::any_io_executor& executor)
    : socket(executor), timer_(executor), ended_(executor) {}

namespace {

connection::error_code last_error() {
  const int error = errno;
  return error == EAGAIN || error == EWOULDBLOCK
             ? connection::error_code(asio::error::would_block)
             : connection::error_code(error, asio::error::get_system_category());
}

}  // namespace

connection::error_code connection::start_connect(const tcp::endpoint& endpoint) {
  on_ring_ = false;
  protocol_ = endpoint.protocol();
  fd_ = ::socket(protocol_.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return last_error();
  if (::connect(fd_, endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0) return {};
  return errno == EINPROGRESS ? error_code(asio::error::would_block) : last_error();
}

connection::error_code connection::connect_result() {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  return error ? error_code(error, asio::error::get_system_category()) : error_code();
}

std::size_t connection::send_some(asio::const_buffer data, error_code& ec) {
  const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
  ec = n < 0 ? last_error() : error_code();
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t connection::receive_some(asio::mutable_buffer into, error_code& ec) {
  const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
  ec = n < 0 ? last_error() : n == 0 && into.size() > 0 ? error_code(asio::error::eof) : error_code();
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

void connection::set_no_delay() {
  if (fd_ < 0) {
    no_delay_on_open_ = true;  // the ring's socket comes with the exchange
    return;
  }
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // a hint: failure changes nothing
}

connection::error_code connection::use_reactor() {
  error_code ec;
  if (!socket.is_open()) socket.assign(protocol_, fd_, ec);
  return ec;
}

void connection::close() {
  error_code ignored;
  if (socket.is_open()) {
    socket.close(ignored);
  } else if (fd_ >= 0 && on_ring_) {
    if (ring_busy_) ring_->cancel_fd(fd_);  // only when the io_context goes with its coroutines
    ring_->close(fd_);
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  no_delay_on_open_ = false;
}

void connection::set_deadline(time_point at) {
  deadline_ = at;
  if (!armed_ || at < timer_.expiry()) arm(at);
}

void connection::clear_deadline() {
  if (armed_) timer_.cancel();
  armed_ = false;
  timed_out_ = false;
  ++generation_;
}

void connection::arm(time_point at) {
  timer_.expires_at(at);  // a pending wait ends with operation_aborted
  armed_ = true;
  timer_.async_wait([self = shared_from_this(), generation = ++generation_](const error_code& ec) {
    if (!ec) self->expired(generation);
  });
}

void connection::expired(unsigned generation) {
  if (generation != generation_) return;
  armed_ = false;
  if (monotonic_clock::now() < deadline_) return arm(deadline_);  // the phase was extended
  timed_out_ = true;
  error_code ignored;
  if (socket.is_open())
    socket.cancel(ignored);
  else if (ring_busy_ && fd_ >= 0)
    ring_->cancel_fd(fd_);  // a pending socket ends on its own
}

bool connection::ring_available() {
  if (!ring_looked_up_) {
    ring_ = probe_ring::of(timer_.get_executor());
    ring_looked_up_ = true;
  }
  return ring_ != nullptr;
}

void connection::ring_open(const tcp::endpoint& endpoint) {
  on_ring_ = true;
  remote_ = endpoint;
  protocol_ = endpoint.protocol();
}

namespace {

enum ring_stage : unsigned { stage_socket, stage_connect, stage_send, stage_receive };

connection::error_code system_error(int negated_errno) {
  return {-negated_errno, asio::error::get_system_category()};
}

}  // namespace

asio::awaitable<void> connection::wait_ring() {
  self_ = shared_from_this();
  ring_busy_ = true;
  ended_.expires_at(asio::steady_timer::time_point::max());
  while (ring_busy_) co_await ended_.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> connection::ring_exchange(asio::const_buffer request, asio::mutable_buffer into,
                                                time_point after_connect, ring_outcome& out) {
  out = ring_outcome{};
  out_ = &out;
  request_ = request;
  into_ = into;
  after_connect_ = after_connect;
  if (fd_ < 0) {
    io_uring_sqe* sqe = ring_->queue(this, stage_socket);
    io_uring_prep_socket(sqe, protocol_.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0);
  } else {
    queue_exchange(false);
  }
  co_await wait_ring();
}

asio::awaitable<std::tuple<connection::error_code, std::size_t>> connection::ring_receive(
    asio::mutable_buffer into) {
  ring_outcome out;
  out_ = &out;
  into_ = into;
  io_uring_prep_recv(ring_->queue(this, stage_receive), fd_, into.data(), into.size(), 0);
  co_await wait_ring();
  co_return std::tuple(out.receive, out.received);
}

// The connect (when not connected yet), the send and the receive, linked: a failed one cancels
// the rest, and the receive's completion always comes last.
void connection::queue_exchange(bool connect) {
  if (connect) {
    io_uring_sqe* sqe = ring_->queue(this, stage_connect);
    io_uring_prep_connect(sqe, fd_, remote_.data(), static_cast<socklen_t>(remote_.size()));
    sqe->flags |= IOSQE_IO_LINK;
  }
  io_uring_sqe* sqe = ring_->queue(this, stage_send);
  // MSG_WAITALL: a short send is retried, not the end of the chain.
  io_uring_prep_send(sqe, fd_, request_.data(), request_.size(), MSG_NOSIGNAL | MSG_WAITALL);
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_prep_recv(ring_->queue(this, stage_receive), fd_, into_.data(), into_.size(), 0);
}

void connection::completed(unsigned tag, int result) {
  ring_outcome& out = *out_;
  const bool failed_before = out.connect || out.send;
  switch (tag) {
    case stage_socket:
      if (result < 0) {
        out.connect = system_error(result);
        return finish();
      }
      fd_ = result;
      if (timed_out_) {
        out.connect = system_error(-ECANCELED);
        return finish();
      }
      if (no_delay_on_open_) set_no_delay();
      return queue_exchange(true);
    case stage_connect:
      if (result < 0) {
        out.connect = system_error(result);
      } else {
        out.connected_at = monotonic_clock::now();
        set_deadline(after_connect_);
      }
      return;
    case stage_send:
      if (failed_before) return;
      if (result < 0)
        out.send = system_error(result);
      else
        out.sent_at = monotonic_clock::now();
      return;
    default:
      if (!failed_before) {
        if (result < 0)
          out.receive = system_error(result);
        else if (result == 0 && into_.size() > 0)
          out.receive = asio::error::eof;
        else
          out.received = static_cast<std::size_t>(result);
      }
      return finish();
  }
}

void connection::finish() {
  ring_busy_ = false;
  ended_.cancel();
  auto keep = std::move(self_);  // the last reference may go with this call's end
}

}  // namespace watchpost::probes::detail
