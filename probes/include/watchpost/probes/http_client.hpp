#pragma once
// The coroutine HTTP/1.1 client: DNS, TCP, TLS (SNI + verification), keep-alive,
// per-phase timing, deadlines, redirects. One client owns at most one idle connection
// (to the origin it last talked to) and is used by one coroutine at a time.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "watchpost/probes/http_types.hpp"

namespace watchpost::probes {

class http_client {
 public:
  http_client(boost::asio::any_io_executor executor, client_options options);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Never throws for network or protocol faults: they come back as result::failure.
  boost::asio::awaitable<result> send(const request& req);

  // Drops the idle connection, if any.
  void close();
  // TCP connections opened over the client's lifetime (keep-alive shows as 1).
  std::size_t connections_opened() const;
  const client_options& options() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Runs one request to completion on a private io_context: for CLI one-shots and tests.
result fetch(const request& req, const client_options& options);

}  // namespace watchpost::probes
