#include "server.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <optional>
#include <stdexcept>

#include "metrics_renderer.hpp"
#include "watchpost/agent/log.hpp"
#include "watchpost/common/exit_error.hpp"

namespace watchpost::agent::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

// A connection as the accept loop sees it, to pick one to close at the cap.
struct connection_entry {
  tcp::socket* socket = nullptr;
  bool waiting = false;  // for a request (or a TLS handshake): closing it loses no answer
};
using connection_list = std::list<connection_entry>;  // the longest waiting first

struct status_server::impl {
  tcp::acceptor acceptor;
  status_routes routes;
  std::string expected_authorization;  // "Basic base64(user:password)", empty = open
  std::optional<ssl::context> tls;
  metrics_renderer* render = nullptr;  // null once stopped
  // Control thread only.
  int active = 0;
  int max_connections = 256;
  connection_list connections;
  std::uint64_t rejected = 0;  // since the last log line about it
  steady::time_point rejected_logged{};
  explicit impl(asio::io_context& io) : acceptor(io) {}
};

namespace {

constexpr auto idle_timeout = std::chrono::seconds(30);
// A request is its header (bodies are refused unread): 8 KiB of header in a 16 KiB buffer that
// also holds whatever a pipelining client sent after it.
constexpr std::size_t header_limit = 8 * 1024;
constexpr std::size_t read_buffer_limit = 16 * 1024;
// Before closing a connection on a refused request, read (and drop) what the client still sends,
// boundedly: closing with unread data resets the connection, and the client may lose the answer.
constexpr std::size_t linger_bytes = 64 * 1024;
constexpr auto linger_time = std::chrono::milliseconds(500);
constexpr auto reject_log_period = std::chrono::seconds(10);
constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

std::string basic_authorization(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                      reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

// Constant time in the length of the expected value, so response timing leaks nothing.
bool authorized(std::string_view expected, std::string_view given) {
  if (expected.empty()) return true;
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) diff |= expected[i] ^ (i < given.size() ? given[i] : 0);
  return diff == 0;
}

// One answer: the body is either owned or the shared /metrics text.
struct answer {
  http::response<http::span_body<const char>> res;
  std::string body;
  std::shared_ptr<const std::string> shared;
  bool close = false;

  void set(http::status status, std::string content_type, std::string text) {
    res.result(status);
    res.set(http::field::content_type, std::move(content_type));
    body = std::move(text);
  }
};

// Everything but the read and the write; /metrics awaits the render thread.
asio::awaitable<void> respond(const http::request<http::empty_body>& req, bool has_body,
                              status_server::impl& server, answer& a) {
  std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get_or_head = req.method() == http::verb::get || req.method() == http::verb::head;
  a.close = has_body || !req.keep_alive();  // a body is never read, so the connection cannot go on
  if (!get_or_head) {
    a.set(http::status::method_not_allowed, "text/plain; charset=utf-8", "only GET\n");
    a.res.set(http::field::allow, "GET, HEAD");
  } else if (has_body) {
    a.set(http::status::payload_too_large, "text/plain; charset=utf-8", "GET and HEAD take no body\n");
  } else if (path != "/healthz" &&
             !authorized(server.expected_authorization, req[http::field::authorization])) {
    a.set(http::status::unauthorized, "text/plain; charset=utf-8", "authentication required\n");
    a.res.set(http::field::www_authenticate, "Basic realm=\"watchpost\", charset=\"UTF-8\"");
  } else if (path == "/metrics" && server.render) {
    a.res.result(http::status::ok);
    a.res.set(http::field::content_type, metrics_content_type);
    a.shared = co_await asio::co_spawn(server.render->executor(), server.render->text(), asio::use_awaitable);
  } else {
    http_reply reply = path == "/metrics" ? http_reply{503, "text/plain; charset=utf-8", "stopping\n"}
                                          : server.routes.handle(path);
    a.set(static_cast<http::status>(reply.status), std::move(reply.content_type), std::move(reply.body));
  }
  if (req.method() == http::verb::head) a.body.clear(), a.shared.reset();
  const std::string& text = a.shared ? *a.shared : a.body;
  a.res.body() = {text.data(), text.size()};
  a.res.version(req.version());
  a.res.set(http::field::server, "watchpost-agent");
  a.res.keep_alive(!a.close);
  a.res.prepare_payload();
}

template <class Stream>
asio::awaitable<bool> write_error(Stream& stream, http::status status, std::string text) {
  answer a;
  a.set(status, "text/plain; charset=utf-8", std::move(text));
  a.res.body() = {a.body.data(), a.body.size()};
  a.res.version(11);
  a.res.set(http::field::server, "watchpost-agent");
  a.res.keep_alive(false);
  a.res.prepare_payload();
  co_await http::async_write(stream, a.res, asio::as_tuple(asio::use_awaitable));
  co_return true;
}

// Owns one of the server's connection slots and its entry in the connection list.
struct slot {
  std::shared_ptr<status_server::impl> server;
  connection_list::iterator entry;
  explicit slot(std::shared_ptr<status_server::impl> s) : server(std::move(s)) {
    ++server->active;
    entry = server->connections.insert(server->connections.end(), connection_entry{});
  }
  slot(slot&&) = default;
  slot& operator=(slot&&) = delete;
  ~slot() {
    if (!server) return;
    --server->active;
    server->connections.erase(entry);
  }
  // Marks the connection as waiting for its client from now on (it moves to the list's end).
  void wait_for_client(tcp::socket& socket) {
    server->connections.splice(server->connections.end(), server->connections, entry);
    entry->socket = &socket;
    entry->waiting = true;
  }
  void client_spoke() { entry->waiting = false; }
};

// Serves requests until the client or a refusal ends the connection; true when it ended on a
// refusal (the caller then lingers before closing).
template <class Stream>
asio::awaitable<bool> serve(Stream& stream, slot& held) {
  status_server::impl& server = *held.server;
  beast::flat_buffer buffer(read_buffer_limit);
  while (true) {
    beast::get_lowest_layer(stream).expires_after(idle_timeout);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(header_limit);
    held.wait_for_client(beast::get_lowest_layer(stream).socket());
    auto [read_error, read_bytes] =
        co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    held.client_spoke();
    if (read_error == http::error::header_limit || read_error == http::error::buffer_overflow)
      co_return co_await write_error(stream, http::status::request_header_fields_too_large,
                                     "request header too large\n");
    if (read_error == http::error::end_of_stream || read_error == http::error::partial_message)
      co_return false;
    if (read_error && read_error.category() == beast::error_code(http::error::bad_method).category())
      co_return co_await write_error(stream, http::status::bad_request, "malformed request\n");
    if (read_error) co_return false;  // timeout, reset: nothing to answer
    const auto& req = parser.get();
    answer a;
    co_await respond(req, !parser.is_done() || req.count(http::field::transfer_encoding) > 0, server, a);
    auto [write_error, write_bytes] =
        co_await http::async_write(stream, a.res, asio::as_tuple(asio::use_awaitable));
    if (write_error) co_return false;
    if (a.close) co_return !parser.is_done();
  }
}

asio::awaitable<void> linger(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(linger_time);
  std::array<char, 4096> sink;
  for (std::size_t total = 0; total < linger_bytes;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    total += n;
  }
}

// Plain and TLS sessions are separate coroutines: an idle plain client's frame holds no TLS stream.
asio::awaitable<void> plain_session(tcp::socket socket, slot held) {
  beast::tcp_stream stream(std::move(socket));
  if (co_await serve(stream, held)) co_await linger(stream);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> tls_session(tcp::socket socket, slot held) {
  ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *held.server->tls);
  beast::get_lowest_layer(stream).expires_after(idle_timeout);
  held.wait_for_client(beast::get_lowest_layer(stream).socket());
  auto [handshake_error] =
      co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  held.client_spoke();
  if (handshake_error) co_return;  // e.g. a plain-http client: nothing worth logging
  co_await serve(stream, held);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
  co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

// At the cap, the connection that has waited longest for its client makes room: idle sockets
// cannot lock /healthz and the scrapers out. False when every connection is mid-request.
bool close_longest_waiting(status_server::impl& server) {
  for (auto& c : server.connections) {
    if (!c.waiting) continue;
    beast::error_code ignored;
    c.socket->close(ignored);  // its session ends with operation_aborted and frees the slot
    c.waiting = false;
    return true;
  }
  return false;
}

// A flood of clients is logged once per period, not once per connection.
void note_rejected(status_server::impl& server) {
  ++server.rejected;
  const auto now = steady::now();
  if (now - server.rejected_logged < reject_log_period) return;
  log_event(log_level::warn, "status server at its connection cap: closing idle or new connections",
            {{"max_connections", std::to_string(server.max_connections)},
             {"closed", std::to_string(server.rejected)}});
  server.rejected = 0;
  server.rejected_logged = now;
}

asio::awaitable<void> accept_loop(std::shared_ptr<status_server::impl> server) {
  asio::steady_timer pause(server->acceptor.get_executor());
  std::chrono::milliseconds backoff{0};
  while (server->acceptor.is_open()) {
    auto [ec, socket] = co_await server->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !server->acceptor.is_open()) break;
    if (ec) {
      // EMFILE, ENFILE, ENOBUFS...: the pending connection stays queued, so retrying at once
      // spins. Wait 10 ms, doubling up to 1 s, while the connections we have go on.
      const bool first = backoff.count() == 0;
      backoff = std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
      if (first)
        log_event(log_level::warn, "status server cannot accept; backing off", {{"error", ec.message()}});
      pause.expires_after(backoff);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    if (server->active >= server->max_connections) {
      note_rejected(*server);
      // The closed one's slot is freed when its session wakes, just after: the cap is exceeded by
      // at most the connections closed in this turn of the loop.
      if (!close_longest_waiting(*server)) continue;  // the new socket closes here
    }
    auto session = server->tls ? tls_session(std::move(socket), slot(server))
                               : plain_session(std::move(socket), slot(server));
    asio::co_spawn(server->acceptor.get_executor(), std::move(session), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_event(log_level::error, "status server session failed", {{"error", ex.what()}});
      }
    });
  }
}

}  // namespace

status_server::status_server(asio::io_context& io, const std::string& host, std::uint16_t port,
                             const listen_protection& security, status_routes routes, int max_connections)
    : impl_(std::make_shared<impl>(io)),
      renderer_(std::make_unique<metrics_renderer>(std::move(routes.render_metrics))) {
  impl_->routes = std::move(routes);
  impl_->render = renderer_.get();
  impl_->max_connections = max_connections;
  if (!security.user.empty())
    impl_->expected_authorization = basic_authorization(security.user, security.password);
  beast::error_code ec;
  if (!security.tls_cert.empty()) {
    auto& tls = impl_->tls.emplace(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    tls.use_certificate_chain_file(security.tls_cert, ec);
    if (ec) throw usage_error("cannot load listen_tls.cert '" + security.tls_cert + "': " + ec.message());
    tls.use_private_key_file(security.tls_key, ssl::context::pem, ec);
    if (ec) throw usage_error("cannot load listen_tls.key '" + security.tls_key + "': " + ec.message());
  }
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw usage_error("listen address '" + host + "' is not an IP address");
  if (!address.is_loopback() && security.user.empty() && security.tls_cert.empty())
    log_event(log_level::warn,
              "listening beyond loopback without listen_basic_auth or listen_tls: anyone who can "
              "reach it reads /metrics and /status",
              {{"listen", host}});
  const tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw cannot_run("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  asio::co_spawn(io, accept_loop(impl_), [](std::exception_ptr e) {
    if (e) log_event(log_level::error, "status server stopped unexpectedly");
  });
}

status_server::~status_server() {
  stop();
  renderer_.reset();  // joins the render thread; drops the sessions queued on it
}

std::uint16_t status_server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void status_server::set_max_connections(int max_connections) { impl_->max_connections = max_connections; }

void status_server::stop() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->render = nullptr;
}

}  // namespace watchpost::agent::detail
