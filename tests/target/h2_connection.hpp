#pragma once
// HTTP/2 on the test target's streams: ALPN on TLS, h2c prior knowledge on plain TCP, and the
// coroutine that drives an h2_session over either stream. Coroutine bodies live in
// h2_connection.cpp, apart from server.cpp (the HTTP/1.1 sessions).
#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "routes.hpp"

namespace watchpost::test_target {

using plain_stream = boost::beast::tcp_stream;
using tls_stream = boost::asio::ssl::stream<boost::beast::tcp_stream>;

// ALPN on the server context: "h2" (when `h2`) preferred, then "http/1.1"; a client offering
// neither gets no ALPN and HTTP/1.1.
void enable_alpn(SSL_CTX* ctx, bool h2);
// True when the handshake on `ssl` chose "h2".
bool negotiated_h2(SSL* ssl);

// Reads the connection's first bytes into `buffer` until they are the 24-byte HTTP/2 client
// preface (true) or stop matching it (false: an HTTP/1.1 request, left in `buffer`, or an error).
boost::asio::awaitable<bool> read_h2c_preface(plain_stream& stream, boost::beast::flat_buffer& buffer);

// Serves HTTP/2 until the peer leaves, the session ends (GOAWAY, a fault) or the connection is
// idle for --idle-timeout (30 s by default). `buffer` holds bytes already read (the preface).
// True when the connection should be closed gracefully, false when it failed.
boost::asio::awaitable<bool> serve_h2(plain_stream& stream, boost::beast::flat_buffer& buffer,
                                      server_state& st);
boost::asio::awaitable<bool> serve_h2(tls_stream& stream, server_state& st);

}  // namespace watchpost::test_target
