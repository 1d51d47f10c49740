#pragma once
// One connection's byte stream: a non-blocking TCP socket, with OpenSSL on top for https.
// Every call returns at once with what happened (done, or which readiness to wait for), so the
// connection's state machine decides when to wait; no coroutine, no buffer of its own.
// On the io_uring back end (plain http) it is a raw socket whose operations complete later
// through the worker's ring, tagged with the attempt they belong to.
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "uring.hpp"
#include "watchpost/probes/wire.hpp"

namespace watchpost::loadgen {

// Where every connection goes, resolved once before the run; read-only while it runs.
struct network_target {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  SSL_CTX* tls = nullptr;                // https: verification, CA store (null for http)
  std::optional<probes::tls_peer> peer;  // https: SNI and the name (or IP) to verify
};

// One non-blocking read, write or handshake step.
enum class io_result : std::uint8_t { done, want_read, want_write, closed, failed };

class transport {
 public:
  // `ring` null: the epoll back end (Asio's reactor).
  transport(boost::asio::io_context& context, uring* ring) : socket_(context), ring_(ring) {}
  ~transport();
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  bool secure() const { return tls_ != nullptr; }
  bool on_ring() const { return ring_ != nullptr; }

  // After the TCP connect: no delay, non-blocking, and for https a TLS session (resuming the
  // last one) ready for handshake(). False when OpenSSL could not set one up.
  bool connected(const network_target& target);
  io_result handshake();
  // After a failed handshake: the server's certificate was rejected (rather than the handshake).
  bool verify_failed() const;
  io_result write_some(const char* data, std::size_t size, std::size_t& written);
  io_result read_some(char* data, std::size_t size, std::size_t& got);
  // Closes the socket, keeping a resumable TLS session for the next connect.
  void close();
  // At a deadline: closes the socket so that what is pending fails (epoll: operation_aborted;
  // io_uring: the attempt's next completion, since close() was not called).
  void abort();

  // io_uring: a new socket (a new attempt) and its operations; false when socket() failed.
  bool open_raw(int family);
  bool raw_open() const { return fd_ >= 0; }
  std::uint32_t attempt() const { return attempt_; }
  void start_connect(const boost::asio::ip::tcp::endpoint& ep, std::uint64_t tag) {
    ring_->connect(fd_, ep.data(), static_cast<socklen_t>(ep.size()), pending(0, tag));
  }
  void start_send(const char* data, std::size_t size, std::uint64_t tag) {
    ring_->send(fd_, data, size, pending(1, tag));
  }
  void start_receive(std::uint64_t tag) { ring_->receive(fd_, pending(2, tag)); }
  // An operation of this attempt completed (for good unless `more`): nothing to cancel for it.
  void settled(std::uint64_t tag, bool more) {
    for (auto& t : pending_)
      if (t == tag && !more) t = 0;
  }

 private:
  io_result tls_result(int rc, std::size_t& count);
  void close_raw();
  std::uint64_t pending(std::size_t slot, std::uint64_t tag) { return pending_[slot] = tag; }

  boost::asio::ip::tcp::socket socket_;
  uring* ring_;
  int fd_ = -1;
  std::uint32_t attempt_ = 0;
  // The tags of the operations pending on fd_ (connect, send, receive; 0: none), cancelled by
  // tag at close: the kernel finds those by hash, where a cancel by descriptor scans them all.
  std::uint64_t pending_[3] = {};
  struct ssl_free {
    void operator()(SSL* s) const { SSL_free(s); }
  };
  std::unique_ptr<SSL, ssl_free> tls_;  // per connection attempt, on https
  struct session_free {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
  };
  // The last TLS session, resumed on reconnect (servers that close connections cost an
  // abbreviated handshake, not a full one).
  std::unique_ptr<SSL_SESSION, session_free> session_;
};

}  // namespace watchpost::loadgen
