#include "server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "faults.hpp"
#include "h2_connection.hpp"
#include "routes.hpp"

namespace watchpost::test_target {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto idle_timeout = std::chrono::seconds(30);  // keep-alive idle and request read
constexpr auto io_timeout = std::chrono::seconds(30);    // each write
constexpr auto handshake_timeout = std::chrono::seconds(10);
constexpr auto shutdown_timeout = std::chrono::seconds(5);

// How a session ends after a reply.
enum class next_step { keep_alive, close, abort };

net::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  net::steady_timer timer(co_await net::this_coro::executor, d);
  co_await timer.async_wait(use_tuple);
}

// Holds the caller while a freeze is in force (it may be extended meanwhile).
net::awaitable<void> wait_for_thaw(const server_state& st) {
  for (auto until = st.frozen_until(); monotonic_clock::now() < until; until = st.frozen_until()) {
    net::steady_timer timer(co_await net::this_coro::executor, until);
    co_await timer.async_wait(use_tuple);
  }
}

template <class Stream>
net::awaitable<bool> write_buffers(Stream& stream, const auto& buffers) {
  beast::get_lowest_layer(stream).expires_after(io_timeout);
  auto [ec, n] = co_await net::async_write(stream, buffers, use_tuple);
  co_return !ec;
}

template <class Stream>
net::awaitable<bool> write_header(Stream& stream, response& res) {
  http::response_serializer<http::string_body> sr(res);
  beast::get_lowest_layer(stream).expires_after(io_timeout);
  auto [ec, n] = co_await http::async_write_header(stream, sr, use_tuple);
  co_return !ec;
}

template <class Stream>
net::awaitable<bool> write_pattern(Stream& stream, std::uint64_t size) {
  for (std::uint64_t offset = 0; offset < size;) {
    auto slice =
        pattern_slice(offset, static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, pattern_max)));
    if (!co_await write_buffers(stream, net::const_buffer(slice.data(), slice.size()))) co_return false;
    offset += slice.size();
  }
  co_return true;
}

template <class Stream>
net::awaitable<bool> write_chunked_pattern(Stream& stream, std::uint64_t size) {
  constexpr std::size_t chunk = 1000;
  constexpr std::size_t chunks_per_write = 64;
  static constexpr std::string_view full_chunk_head = "3e8\r\n";
  static constexpr std::string_view crlf = "\r\n";
  static constexpr std::string_view last_chunk = "0\r\n\r\n";
  std::vector<net::const_buffer> buffers;
  buffers.reserve(3 * chunks_per_write + 1);
  char head[24];
  std::uint64_t offset = 0;
  for (;;) {
    buffers.clear();
    for (std::size_t i = 0; i < chunks_per_write && offset < size; ++i) {
      const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - offset));
      if (len == chunk) {
        buffers.emplace_back(full_chunk_head.data(), full_chunk_head.size());
      } else {
        const int n = std::snprintf(head, sizeof head, "%zx\r\n", len);
        buffers.emplace_back(head, static_cast<std::size_t>(n));
      }
      auto slice = pattern_slice(offset, len);
      buffers.emplace_back(slice.data(), slice.size());
      buffers.emplace_back(crlf.data(), crlf.size());
      offset += len;
    }
    const bool done = offset >= size;
    if (done) buffers.emplace_back(last_chunk.data(), last_chunk.size());
    if (!co_await write_buffers(stream, buffers)) co_return false;
    if (done) co_return true;
  }
}

void abort_connection(auto& stream) {
  auto& socket = beast::get_lowest_layer(stream).socket();
  error_code ec;
  socket.set_option(net::socket_base::linger(true, 0), ec);  // close() now sends an RST
  socket.close(ec);
}

// Reads and discards until the peer closes (or `limit` passes): the connection is held, never answered.
template <class Stream>
net::awaitable<void> hold_open(Stream& stream, std::optional<std::chrono::seconds> limit) {
  if (limit)
    beast::get_lowest_layer(stream).expires_after(*limit);
  else
    beast::get_lowest_layer(stream).expires_never();
  std::array<char, 1024> sink;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), use_tuple);
    if (ec) co_return;
  }
}

// Writes `unit` over and over at full speed until the peer closes or `raw_limit` passes.
template <class Stream>
net::awaitable<void> write_endless(Stream& stream, std::string_view unit) {
  // One deadline for all the writes: a peer that stops reading cannot extend it.
  beast::get_lowest_layer(stream).expires_after(raw_limit);
  for (;;) {
    auto [ec, n] = co_await net::async_write(stream, net::buffer(unit), use_tuple);
    if (ec) co_return;
  }
}

template <class Stream>
net::awaitable<next_step> perform_raw(Stream& stream, const reply& r) {
  if (!co_await write_buffers(stream, net::buffer(r.raw))) co_return next_step::abort;
  switch (r.after) {
    case raw_end::close:
      co_return next_step::close;
    case raw_end::truncate: {
      error_code ec;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return next_step::abort;
    }
    case raw_end::hold:
      co_await hold_open(stream, raw_limit);
      break;
    case raw_end::endless:
      co_await write_endless(stream, r.endless);
      break;
  }
  co_return next_step::abort;
}

template <class Stream>
net::awaitable<next_step> perform(Stream& stream, reply& r, const server_state& st) {
  if (r.kind == reply_kind::stall) {
    co_await hold_open(stream, std::nullopt);
    co_return next_step::abort;
  }
  if (r.kind == reply_kind::delayed) co_await sleep_for(r.wait);
  if (!r.bypass_freeze) co_await wait_for_thaw(st);
  if (r.kind == reply_kind::raw) co_return co_await perform_raw(stream, r);
  if (r.interim_count > 0) {
    const std::string interim = interim_responses(r.interim_code, r.interim_count);
    if (!co_await write_buffers(stream, net::buffer(interim))) co_return next_step::abort;
  }

  bool ok = true;
  switch (r.kind) {
    case reply_kind::message:
    case reply_kind::delayed:
    case reply_kind::stall: {
      beast::get_lowest_layer(stream).expires_after(io_timeout);
      auto [ec, n] = co_await http::async_write(stream, r.res, use_tuple);
      ok = !ec;
      break;
    }
    case reply_kind::garbage: {
      static constexpr std::string_view garbage = "NOT-HTTP garbage\r\n\r\n";
      co_await write_buffers(stream, net::const_buffer(garbage.data(), garbage.size()));
      error_code ec;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return next_step::abort;
    }
    case reply_kind::reset: {
      if (co_await write_header(stream, r.res) && co_await write_pattern(stream, 10)) {
        co_await sleep_for(std::chrono::milliseconds(50));  // let the client see the head first
      }
      abort_connection(stream);
      co_return next_step::abort;
    }
    case reply_kind::drip:
      ok = co_await write_header(stream, r.res);
      for (std::uint64_t i = 0; ok && i < r.size; ++i) {
        co_await sleep_for(r.wait);
        ok = co_await write_buffers(stream, net::buffer(pattern_slice(i, 1)));
      }
      break;
    case reply_kind::bytes:
      ok = co_await write_header(stream, r.res) && co_await write_pattern(stream, r.size);
      break;
    case reply_kind::chunked:
      ok = co_await write_header(stream, r.res) && co_await write_chunked_pattern(stream, r.size);
      break;
    case reply_kind::raw:
      break;  // performed above
  }
  if (!ok) co_return next_step::abort;
  co_return r.res.keep_alive() ? next_step::keep_alive : next_step::close;
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == make_error_code(http::error::bad_target).category();
}

// The request/response loop, written once for both transports. `buffer` holds the bytes read so
// far (the h2c preface check's) and is reused across the connection's requests.
template <class Stream>
net::awaitable<next_step> serve(Stream& stream, beast::flat_buffer& buffer, server_state& st, bool tls) {
  for (bool after_response = false;; after_response = true) {
    if (after_response && st.cfg.idle_timeout && buffer.size() == 0) {
      // The stream closes the socket when the idle time runs out: FIN, no response.
      beast::get_lowest_layer(stream).expires_after(*st.cfg.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) co_return ec == net::error::eof ? next_step::close : next_step::abort;
      buffer.commit(n);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    beast::get_lowest_layer(stream).expires_after(idle_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec == http::error::end_of_stream) co_return next_step::close;
    if (ec && is_parse_error(ec) && !(ec == http::error::partial_message)) {
      const auto status = ec == http::error::body_limit     ? http::status::payload_too_large
                          : ec == http::error::header_limit ? http::status::request_header_fields_too_large
                                                            : http::status::bad_request;
      reply r = error_reply(status, parser.get().version(), st, tls);
      co_return co_await perform(stream, r, st) == next_step::abort ? next_step::abort : next_step::close;
    }
    if (ec) co_return next_step::abort;

    st.requests.fetch_add(1, std::memory_order_relaxed);
    reply r = route(parser.get(), st, tls);
    const next_step step = co_await perform(stream, r, st);
    if (step != next_step::keep_alive) co_return step;
  }
}

net::awaitable<void> plain_session(tcp::socket socket, server_state& st) {
  plain_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  if (st.cfg.h2 && co_await read_h2c_preface(stream, buffer)) {
    if (co_await serve_h2(stream, buffer, st)) {
      error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    co_return;
  }
  if (co_await serve(stream, buffer, st, false) == next_step::close) {
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

net::awaitable<void> tls_session(tcp::socket socket, server_state& st, ssl::context& ctx) {
  tls_stream stream(std::move(socket), ctx);
  beast::get_lowest_layer(stream).expires_after(handshake_timeout);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  if (ec) co_return;
  beast::flat_buffer buffer;
  const bool close = negotiated_h2(stream.native_handle())
                         ? co_await serve_h2(stream, st)
                         : co_await serve(stream, buffer, st, true) == next_step::close;
  if (close) {
    beast::get_lowest_layer(stream).expires_after(shutdown_timeout);
    co_await stream.async_shutdown(use_tuple);  // stream_truncated etc. are expected here
  }
}

// Listens (after `delay`) and hands each connection to the next worker, round robin.
net::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::vector<net::io_context*> workers,
                                 server_state& st, ssl::context* tls, nanoseconds delay) {
  if (delay > nanoseconds::zero()) co_await sleep_for(delay);
  acceptor.listen(net::socket_base::max_listen_connections);
  for (std::size_t next = 0;; ++next) {
    auto [ec, peer] = co_await acceptor.async_accept(*workers[next % workers.size()], use_tuple);
    if (ec == net::error::operation_aborted) co_return;
    if (ec) {  // e.g. EMFILE: back off instead of spinning
      co_await sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    st.accepted.fetch_add(1, std::memory_order_relaxed);
    tcp::socket socket(std::move(peer));
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    if (tls)
      net::co_spawn(executor, tls_session(std::move(socket), st, *tls), report);
    else
      net::co_spawn(executor, plain_session(std::move(socket), st), report);
  }
}

net::awaitable<void> scheduled_freeze(server_state& st, nanoseconds at, nanoseconds length) {
  net::steady_timer timer(co_await net::this_coro::executor, st.started + at);
  co_await timer.async_wait(use_tuple);
  st.freeze_for(length);
}

std::unique_ptr<tcp::acceptor> bind_loopback(net::io_context& ioc, unsigned short port) {
  const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
  auto acceptor = std::make_unique<tcp::acceptor>(ioc);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(net::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  return acceptor;
}

}  // namespace

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "watchpost-test-target: %s\n", x.what());
  }
}

int run(const config& cfg, const tls_material* tls) {
  server_state st(cfg);

  std::optional<ssl::context> ssl_ctx;
  if (tls) {
    ssl_ctx.emplace(ssl::context::tls_server);
    ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    ssl_ctx->use_certificate_chain(net::buffer(tls->cert_pem));
    ssl_ctx->use_private_key(net::buffer(tls->key_pem), ssl::context::pem);
    enable_alpn(ssl_ctx->native_handle(), cfg.h2);
  }

  // One io_context per thread; the listeners live on the first and deal connections out.
  std::vector<std::unique_ptr<net::io_context>> iocs;
  for (unsigned i = 0; i < cfg.threads; ++i) iocs.push_back(std::make_unique<net::io_context>(1));
  std::vector<net::io_context*> workers;
  for (auto& ioc : iocs) workers.push_back(ioc.get());
  net::io_context& main_ioc = *iocs.front();

  {
    auto plain = bind_loopback(main_ioc, cfg.port);
    std::unique_ptr<tcp::acceptor> secure;
    if (tls) secure = bind_loopback(main_ioc, cfg.tls_port);
    st.http_port = plain->local_endpoint().port();
    st.https_port = secure ? secure->local_endpoint().port() : 0;

    // Without a delay, listen before announcing READY: a client that connects right after the
    // line must not be refused. (accept_loop listens again; on Linux that only resets the backlog.)
    if (cfg.listen_delay <= nanoseconds::zero()) {
      plain->listen(net::socket_base::max_listen_connections);
      if (secure) secure->listen(net::socket_base::max_listen_connections);
    }
    std::printf("READY http=%u https=%u cert=%s\n", static_cast<unsigned>(st.http_port),
                static_cast<unsigned>(st.https_port), tls ? tls->cert_path.c_str() : "");
    std::fflush(stdout);

    net::co_spawn(main_ioc, accept_loop(*plain, workers, st, nullptr, cfg.listen_delay), report);
    if (secure)
      net::co_spawn(main_ioc, accept_loop(*secure, workers, st, &*ssl_ctx, cfg.listen_delay), report);
    if (cfg.freeze_at) net::co_spawn(main_ioc, scheduled_freeze(st, *cfg.freeze_at, cfg.freeze_for), report);

    net::signal_set signals(main_ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const error_code& ec, int) {
      if (ec) return;
      for (auto& ioc : iocs) ioc->stop();
    });

    std::vector<std::thread> threads;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (std::size_t i = 1; i < iocs.size(); ++i) {
      guards.push_back(net::make_work_guard(*iocs[i]));
      threads.emplace_back([&ioc = *iocs[i]] { ioc.run(); });
    }
    main_ioc.run();
    for (auto& ioc : iocs) ioc->stop();
    for (auto& t : threads) t.join();
  }
  // The listeners' pending accepts hold sockets of the workers' contexts: tear the first
  // context down before the others.
  for (auto& ioc : iocs) ioc.reset();
  return 0;
}

}  // namespace watchpost::test_target
