#include "transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <unistd.h>

#include <utility>

namespace watchpost::loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

transport::~transport() {
  if (fd_ >= 0) ::close(fd_);  // the run is over: the ring is going away with its operations
}

bool transport::open_raw(int family) {
  // Blocking: io_uring tries each operation without waiting first and polls when it must.
  fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  return fd_ >= 0;
}

void transport::close_raw() {
  for (auto& tag : pending_)
    if (tag != 0) ring_->cancel(std::exchange(tag, 0));
  if (fd_ >= 0) ring_->close(fd_);
  fd_ = -1;
}

void transport::abort() {
  if (ring_) {
    close_raw();
    return;
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
}

bool transport::connected(const network_target& target) {
  if (ring_) {
    const int on = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return true;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
  if (!target.tls) return true;
  tls_.reset(SSL_new(target.tls));
  SSL* s = tls_.get();
  if (!s || !SSL_set_fd(s, socket_.native_handle())) return false;
  // A peer closing without close_notify ends a read-until-close body; it is not an error here.
  SSL_set_options(s, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (session_) SSL_set_session(s, session_.get());
  if (!target.peer->apply(s)) return false;
  SSL_set_connect_state(s);
  return true;
}

io_result transport::handshake() {
  std::size_t ignored = 0;
  return tls_result(SSL_do_handshake(tls_.get()), ignored);
}

bool transport::verify_failed() const { return tls_ && SSL_get_verify_result(tls_.get()) != X509_V_OK; }

void transport::close() {
  if (ring_) {
    close_raw();
    ++attempt_;  // whatever the old socket still completes is stale
    return;
  }
  if (tls_) {
    SSL_SESSION* session = SSL_get0_session(tls_.get());
    if (session && SSL_SESSION_is_resumable(session)) session_.reset(SSL_get1_session(tls_.get()));
  }
  tls_.reset();  // no close_notify: the socket closes right after
  boost::system::error_code ignored;
  socket_.close(ignored);
}

io_result transport::tls_result(int rc, std::size_t& count) {
  if (rc > 0) {
    count = static_cast<std::size_t>(rc);
    return io_result::done;
  }
  switch (SSL_get_error(tls_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      return io_result::want_read;
    case SSL_ERROR_WANT_WRITE:
      return io_result::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return io_result::closed;
    default:
      ERR_clear_error();  // the connection is dropped; keep the thread's queue clean for the next
      return io_result::failed;
  }
}

io_result transport::write_some(const char* data, std::size_t size, std::size_t& written) {
  if (tls_) return tls_result(SSL_write(tls_.get(), data, static_cast<int>(size)), written);
  boost::system::error_code ec;
  written = socket_.write_some(asio::buffer(data, size), ec);
  if (ec == asio::error::would_block) return io_result::want_write;
  return ec ? io_result::failed : io_result::done;
}

io_result transport::read_some(char* data, std::size_t size, std::size_t& got) {
  if (tls_) return tls_result(SSL_read(tls_.get(), data, static_cast<int>(size)), got);
  boost::system::error_code ec;
  got = socket_.read_some(asio::buffer(data, size), ec);
  if (ec == asio::error::would_block) return io_result::want_read;
  if (ec == asio::error::eof) return io_result::closed;
  return ec ? io_result::failed : io_result::done;
}

}  // namespace watchpost::loadgen
