#pragma once
// The probe client's HTTP/2 connection: an nghttp2 client session driven over the same TCP or
// TLS stream the HTTP/1.1 path uses (mem_send / mem_recv, no nghttp2 I/O of its own). One
// request at a time, as the client is used by one coroutine at a time; the connection is kept
// for the next request until the server sends GOAWAY or stream ids run out.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <string_view>

#include "exchange.hpp"
#include "watchpost/probes/http_types.hpp"

struct ssl_st;

namespace watchpost::probes::detail {

// Offers ALPN on a client session before its handshake: "h2,http/1.1" for auto and v2,
// "http/1.1" for v1_1. False when OpenSSL refused.
bool offer_alpn(ssl_st* session, http_version wanted);
// The protocol the server picked by ALPN, empty when none.
std::string alpn_selected(const ssl_st* session);

class connection;

class http2_session {
 public:
  // Queues the client preface and SETTINGS (no push, header list and window sizes from options).
  http2_session(const client_options& options, std::string_view user_agent);
  ~http2_session();
  http2_session(const http2_session&) = delete;
  http2_session& operator=(const http2_session&) = delete;

  // Sends req on a new stream and reads its response into r: status, headers, body, ttfb and
  // transfer; failures as result kinds (GOAWAY, RST_STREAM and h2 errors are `protocol`).
  // `buffer` is the connection's read buffer; `conn`'s deadline (set by the caller) ends it.
  boost::asio::awaitable<exchange_outcome> exchange(boost::asio::ip::tcp::socket& stream,
                                                    boost::beast::flat_buffer& buffer, const request& req,
                                                    const url& target, result& r, const connection& conn);
  boost::asio::awaitable<exchange_outcome> exchange(
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>& stream, boost::beast::flat_buffer& buffer,
      const request& req, const url& target, result& r, const connection& conn);

  // Whether another request may be sent on this connection.
  bool reusable() const;

  struct state;  // nghttp2 callbacks reach it through the session's user data

 private:
  std::unique_ptr<state> state_;
};

}  // namespace watchpost::probes::detail
