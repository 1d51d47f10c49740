#include "server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

#include "watchpost/agent/log.hpp"

namespace watchpost::agent::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct status_server::impl {
  tcp::acceptor acceptor;
  request_handler handler;
  explicit impl(asio::io_context& io) : acceptor(io) {}
};

namespace {

constexpr auto idle_timeout = std::chrono::seconds(30);

// Expected failures (client went away, timeout, malformed request) end the session quietly.
asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<status_server::impl> server) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    stream.expires_after(idle_timeout);
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_error) break;
    const auto& req = parser.get();
    http::response<http::string_body> res;
    res.version(req.version());
    res.set(http::field::server, "watchpost-agent");
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = "only GET\n";
    } else {
      std::string_view target = req.target();
      const http_reply reply = server->handler(target.substr(0, target.find('?')));
      res.result(reply.status);
      res.set(http::field::content_type, reply.content_type);
      if (req.method() == http::verb::get) res.body() = reply.body;
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [write_error, write_bytes] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (write_error || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
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
                             request_handler handler)
    : impl_(std::make_shared<impl>(io)) {
  impl_->handler = std::move(handler);
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("listen address '" + host + "' is not an IP address");
  const tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
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
