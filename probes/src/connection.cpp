// A client's TCP socket and its deadline: see connection.hpp.
#include "connection.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace watchpost::probes::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

connection::connection(const asio::any_io_executor& executor) : socket(executor), timer_(executor) {}

connection::error_code connection::start_connect(const tcp::endpoint& endpoint) {
  error_code ec;
  socket.open(endpoint.protocol(), ec);
  if (!ec) socket.native_non_blocking(true, ec);  // Asio's own reads then need no ioctl of their own
  if (ec) return ec;
  if (::connect(socket.native_handle(), endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0)
    return {};
  const int error = errno;
  return error == EINPROGRESS ? error_code(asio::error::would_block)
                              : error_code(error, asio::error::get_system_category());
}

connection::error_code connection::connect_result() {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  return error ? error_code(error, asio::error::get_system_category()) : error_code();
}

std::size_t connection::send_some(asio::const_buffer data, error_code& ec) {
  const ssize_t n = ::send(socket.native_handle(), data.data(), data.size(), MSG_NOSIGNAL);
  if (n >= 0) {
    ec = {};
    return static_cast<std::size_t>(n);
  }
  const int error = errno;
  ec = error == EAGAIN || error == EWOULDBLOCK ? error_code(asio::error::would_block)
                                               : error_code(error, asio::error::get_system_category());
  return 0;
}

void connection::close() {
  error_code ignored;
  if (socket.is_open()) socket.close(ignored);
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
  socket.cancel(ignored);
}

}  // namespace watchpost::probes::detail
