#include "h2_connection.hpp"

#include <nghttp2/nghttp2.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <string>
#include <string_view>

#include "h2_session.hpp"
#include "server.hpp"

namespace watchpost::test_target {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto preface_timeout = std::chrono::seconds(30);  // as HTTP/1.1's first request read
constexpr auto default_idle_timeout = std::chrono::seconds(30);
constexpr auto io_timeout = std::chrono::seconds(30);  // each write
constexpr std::size_t write_round = 256 * 1024;        // bytes produced per write

constexpr std::string_view client_preface{NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN};

// ALPN wire format, in the server's order of preference.
constexpr unsigned char h2_then_http11[] = "\x02h2\x08http/1.1";
constexpr unsigned char http11_only[] = "\x08http/1.1";

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void* h2) {
  const unsigned char* ours = h2 ? h2_then_http11 : http11_only;
  const unsigned ours_len = h2 ? sizeof h2_then_http11 - 1 : sizeof http11_only - 1;
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, ours, ours_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN (HTTP/1.1)
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// What the reader and the writer of one connection share; it lives in serve()'s frame, which
// outlives the reader (serve waits for it).
struct h2_link {
  h2_link(server_state& st, bool tls, const net::any_io_executor& executor)
      : session(st, tls), wake(executor) {}

  h2_session session;
  net::steady_timer wake;  // the writer sleeps on it; the reader cancels it to bring news
  bool reader_done = false;
  monotonic_clock::time_point last_read = monotonic_clock::now();
};

template <class Stream>
net::awaitable<void> read_loop(Stream& stream, h2_link& link) {
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(buf), use_tuple);
    if (ec) co_return;
    link.last_read = monotonic_clock::now();
    const bool ok = link.session.receive(std::string_view(buf.data(), n));
    link.wake.cancel();
    if (!ok) co_return;
  }
}

// The writer: timed actions, then everything the session has to send; sleeps until a timer is
// due, the reader brings news or the idle limit passes.
template <class Stream>
net::awaitable<bool> serve(Stream& stream, std::string_view already_read, server_state& st, bool tls) {
  auto executor = co_await net::this_coro::executor;
  h2_link link(st, tls, executor);
  const auto idle_limit = st.cfg.idle_timeout.value_or(default_idle_timeout);
  auto& socket_layer = beast::get_lowest_layer(stream);
  socket_layer.expires_never();  // the reader has no deadline: the idle limit is the writer's
  if (!link.session.receive(already_read)) link.reader_done = true;
  if (!link.reader_done) {
    net::co_spawn(executor, read_loop(stream, link), [&link](std::exception_ptr e) {
      report(e);
      link.reader_done = true;
      link.wake.cancel();
    });
  }

  bool ok = true;
  std::string out;
  for (;;) {
    link.session.run_due(monotonic_clock::now());
    out.clear();
    link.session.produce(out, write_round);
    if (!out.empty()) {
      socket_layer.expires_after(io_timeout);
      auto [ec, n] = co_await net::async_write(stream, net::buffer(out), use_tuple);
      if (ec) {
        ok = false;
        break;
      }
      continue;
    }
    if (link.reader_done || link.session.done()) break;
    auto deadline = link.session.next_deadline();
    const bool idle = link.session.idle();
    if (idle) deadline = std::min(deadline, link.last_read + idle_limit);
    link.wake.expires_at(deadline);
    co_await link.wake.async_wait(use_tuple);
    if (idle && link.session.idle() && monotonic_clock::now() >= link.last_read + idle_limit)
      link.session.shut_down();
  }

  // The reader holds references into this frame: stop it and wait for it to finish.
  if (!link.reader_done) {
    socket_layer.cancel();
    while (!link.reader_done) {
      link.wake.expires_at(monotonic_clock::time_point::max());
      co_await link.wake.async_wait(use_tuple);
    }
  }
  co_return ok;
}

}  // namespace

void enable_alpn(SSL_CTX* ctx, bool h2) {
  // The callback's argument only says whether h2 is on: any non-null pointer will do.
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, h2 ? ctx : nullptr);
}

bool negotiated_h2(SSL* ssl) {
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  return std::string_view(reinterpret_cast<const char*>(proto), proto ? len : 0) == "h2";
}

net::awaitable<bool> read_h2c_preface(plain_stream& stream, beast::flat_buffer& buffer) {
  stream.expires_after(preface_timeout);
  while (buffer.size() < client_preface.size()) {
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
    if (ec) co_return false;
    buffer.commit(n);
    const std::string_view got(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!client_preface.starts_with(got.substr(0, client_preface.size()))) co_return false;
  }
  co_return true;
}

net::awaitable<bool> serve_h2(plain_stream& stream, beast::flat_buffer& buffer, server_state& st) {
  const std::string_view already_read(static_cast<const char*>(buffer.data().data()), buffer.size());
  co_return co_await serve(stream, already_read, st, false);
}

net::awaitable<bool> serve_h2(tls_stream& stream, server_state& st) {
  co_return co_await serve(stream, {}, st, true);
}

}  // namespace watchpost::test_target
