#include "server.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <stdexcept>

#include "watchpost/agent/log.hpp"
#include "watchpost/common/exit_error.hpp"

namespace watchpost::agent::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct status_server::impl {
  tcp::acceptor acceptor;
  request_handler handler;
  std::string expected_authorization;  // "Basic base64(user:password)", empty = open
  std::optional<ssl::context> tls;
  explicit impl(asio::io_context& io) : acceptor(io) {}
};

namespace {

constexpr auto idle_timeout = std::chrono::seconds(30);

std::string basic_authorization(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
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

http::response<http::string_body> respond(const http::request<http::string_body>& req, status_server::impl& server) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.set(http::field::server, "watchpost-agent");
  std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "only GET\n";
  } else if (path != "/healthz" && !authorized(server.expected_authorization, req[http::field::authorization])) {
    res.result(http::status::unauthorized);
    res.set(http::field::www_authenticate, "Basic realm=\"watchpost\", charset=\"UTF-8\"");
    res.body() = "authentication required\n";
  } else {
    http_reply reply = server.handler(path);
    res.result(reply.status);
    res.set(http::field::content_type, reply.content_type);
    if (req.method() == http::verb::get) res.body() = std::move(reply.body);  // /metrics is tens of MB
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

// Expected failures (client went away, timeout, malformed request) end the session quietly.
template <class Stream>
asio::awaitable<void> serve(Stream& stream, status_server::impl& server) {
  beast::flat_buffer buffer;
  while (true) {
    beast::get_lowest_layer(stream).expires_after(idle_timeout);
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_error) break;
    auto res = respond(parser.get(), server);
    auto [write_error, write_bytes] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (write_error || !res.keep_alive()) break;
  }
}

asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<status_server::impl> server) {
  beast::tcp_stream plain(std::move(socket));
  beast::error_code ignored;
  if (!server->tls) {
    co_await serve(plain, *server);
    plain.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  ssl::stream<beast::tcp_stream> stream(std::move(plain), *server->tls);
  beast::get_lowest_layer(stream).expires_after(idle_timeout);
  auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (handshake_error) co_return;  // e.g. a plain-http client: nothing worth logging
  co_await serve(stream, *server);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
  co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> accept_loop(std::shared_ptr<status_server::impl> server) {
  while (server->acceptor.is_open()) {
    auto [ec, socket] = co_await server->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !server->acceptor.is_open()) break;
    if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
    asio::co_spawn(server->acceptor.get_executor(), session(std::move(socket), server), [](std::exception_ptr e) {
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
                             const listen_protection& security, request_handler handler)
    : impl_(std::make_shared<impl>(io)) {
  impl_->handler = std::move(handler);
  if (!security.user.empty()) impl_->expected_authorization = basic_authorization(security.user, security.password);
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

status_server::~status_server() { stop(); }

std::uint16_t status_server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void status_server::stop() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace watchpost::agent::detail
