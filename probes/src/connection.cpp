// A client's TCP socket and its deadline: see connection.hpp.
#include "connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace watchpost::probes::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

connection::connection(const asio::any_io_executor& executor) : socket(executor), timer_(executor) {}

namespace {

connection::error_code last_error() {
  const int error = errno;
  return error == EAGAIN || error == EWOULDBLOCK
             ? connection::error_code(asio::error::would_block)
             : connection::error_code(error, asio::error::get_system_category());
}

}  // namespace

connection::error_code connection::start_connect(const tcp::endpoint& endpoint) {
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
  if (socket.is_open())
    socket.close(ignored);
  else if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
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
  if (socket.is_open()) socket.cancel(ignored);  // else nothing waits on it
}

}  // namespace watchpost::probes::detail
