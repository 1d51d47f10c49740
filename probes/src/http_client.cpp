// The probe engine's HTTP client: connections, TLS, redirects and the HTTP/1.1 exchange; HTTP/2
// exchanges go to http2_session. Coroutine bodies stay in this file so the Beast instantiations
// (plain and TLS) are compiled once.
#include "watchpost/probes/http_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <optional>
#include <tuple>
#include <vector>

#include "connection.hpp"
#include "exchange.hpp"
#include "http2_session.hpp"
#include "watchpost/probes/dns_resolver.hpp"
#include "watchpost/probes/wire.hpp"

namespace watchpost::probes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using time_point = monotonic_clock::time_point;
using detail::describe;
using detail::exchange_outcome;
using detail::fail;
using detail::is_closed_by_peer;
using detail::max_interim_responses;
using detail::read_block;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view user_agent = "watchpost/0.1";

// Reads certificate expiry, subject, protocol version and cipher of an established TLS session.
tls_info read_tls_info(SSL* session) {
  tls_info info;
  info.present = true;
  info.version = SSL_get_version(session);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(session)) info.cipher = SSL_CIPHER_get_name(cipher);
  if (X509* cert = SSL_get1_peer_certificate(session)) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
      info.cert_not_after = std::chrono::system_clock::from_time_t(timegm(&tm));
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    info.cert_subject = subject;
    X509_free(cert);
  }
  info.alpn = detail::alpn_selected(session);
  return info;
}

// True when `cached` (whose target is the URL it was sent to) is `req` sent to `target`.
bool same_request(const request& cached, const request& req, const url& target) {
  const request& a = cached;
  const request& b = req;
  return a.method == b.method && a.target.same_origin(target) && a.target.target == target.target &&
         a.body == b.body && a.headers.size() == b.headers.size() &&
         std::equal(a.headers.begin(), a.headers.end(), b.headers.begin(),
                    [](const header_field& x, const header_field& y) {
                      return x.name == y.name && x.value == y.value;
                    });
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// curl's rule: credentials travel only to the origin they were given for.
void drop_credentials(header_list& headers) {
  std::erase_if(headers, [](const header_field& h) {
    return iequals(h.name, "Authorization") || iequals(h.name, "Cookie") ||
           iequals(h.name, "Proxy-Authorization");
  });
}

// Beast's header_limit does not bound a chunk-size line, its extensions or the trailers: the parser
// waits for their end in the read buffer, which holds at most the header limit plus one read_block.
// Chunk extensions carry a few tokens at most; anything longer is hostile.
constexpr std::size_t max_chunk_extension_bytes = 4 * 1024;

// One response parsed straight into the parts of a result: no header map is built (an
// allocation per field) only to be copied out of it. Beast's basic_parser does the parsing and
// enforces the header and body limits.
class response_reader final : public http::basic_parser<false> {
 public:
  int status = 0;
  std::string reason;
  header_list headers;
  std::string body;

  // What the response says of the connection, as beast::http::message::keep_alive() reads it:
  // unlike basic_parser::keep_alive(), a body read until the peer closed does not count.
  bool message_keep_alive() const { return version_ >= 11 ? !close_ : keep_alive_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, error_code&) override {}
  void on_response_impl(int code, beast::string_view text, int version, error_code&) override {
    status = code;
    reason = text;
    version_ = version;
  }
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code&) override {
    if (name == http::field::connection)
      for (const auto token : http::token_list(value)) {
        close_ = close_ || beast::iequals(token, "close");
        keep_alive_ = keep_alive_ || beast::iequals(token, "keep-alive");
      }
    if (headers.empty()) headers.reserve(8);
    headers.push_back({std::string(name_string), std::string(value)});
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) body.reserve(static_cast<std::size_t>(*length));  // within body_limit: checked before
  }
  std::size_t on_body_impl(beast::string_view data, error_code&) override {
    body.append(data);
    return data.size();
  }
  // Called with each chunk's extensions once the chunk-size line is complete.
  void on_chunk_header_impl(std::uint64_t, beast::string_view extensions, error_code& ec) override {
    if (extensions.size() > max_chunk_extension_bytes) ec = http::error::bad_chunk_extension;
  }
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view data, error_code&) override {
    body.append(data);
    return data.size();
  }
  void on_finish_impl(error_code&) override {}

  int version_ = 11;
  bool close_ = false;       // Connection: close
  bool keep_alive_ = false;  // Connection: keep-alive
};

// Nagle's algorithm can hold back only the tail of a write longer than one segment (536 bytes,
// the smallest IPv4 MSS): a shorter request on an idle connection leaves at once, so plain HTTP
// sets TCP_NODELAY (a syscall per connection) only for a longer one. TLS always sets it: the
// handshake is written in pieces.
constexpr std::size_t one_segment = 536;

// Read buffers live only while a connection is open: a client hands its buffer to this thread's
// free list when the connection closes and takes one back on connect, so an agent of 10,000
// targets that each open a fresh connection holds as many buffers as it has probes in flight,
// not one per target, and no probe allocates one. Per thread: a client is used by one thread.
class read_buffers {
 public:
  void take(beast::flat_buffer& buffer, std::size_t limit) {
    if (buffer.capacity() == 0 && !spare_.empty()) {
      buffer = std::move(spare_.back());
      spare_.pop_back();
    }
    buffer.max_size(limit);
  }
  void give_back(beast::flat_buffer& buffer) {
    if (buffer.capacity() == 0) return;
    buffer.clear();
    if (spare_.size() < max_spare) spare_.push_back(std::move(buffer));
    buffer = beast::flat_buffer();  // a moved-from buffer's state is unspecified
  }

 private:
  static constexpr std::size_t max_spare = 64;  // a batch of probes in flight on one thread
  std::vector<beast::flat_buffer> spare_;
};

thread_local read_buffers spare_read_buffers;

}  // namespace

struct http_client::impl {
  asio::any_io_executor executor;
  client_options options;
  std::shared_ptr<ssl::context> tls_context;
  std::shared_ptr<dns_resolver> resolver;  // options.resolver, else made on the first lookup
  // Made on the first connect and kept for the next ones (its timer too); shared with its timer.
  std::shared_ptr<detail::connection> conn;
  // Behind a pointer, as most clients never use it: a 10,000-target agent keeps one client per
  // target. Over conn->socket, so the one deadline cancels TLS operations as well.
  std::unique_ptr<ssl::stream<tcp::socket&>> secure;
  std::optional<url> connected_origin;
  // A plain connect whose handshake the first send confirms (see connection.hpp).
  bool connect_pending = false;
  time_point connect_started;
  http_version connected_for = http_version::auto_;  // the version the open connection was opened for
  std::unique_ptr<detail::http2_session> h2;         // when the open connection speaks HTTP/2
  bool no_delay = false;                             // TCP_NODELAY is set on the open connection
  tls_info connection_tls;
  beast::flat_buffer buffer;  // while connected only (read_buffers), bounded: see read_block
  std::size_t opened = 0;
  // The last request and its bytes: a probe repeated on a keep-alive connection is serialised once.
  std::optional<request> serialized_for;
  std::string wire;
  std::unique_ptr<request> redirected;  // the current hop once a redirect was followed
  // The last host connected to and its address when it is an IP literal: parsed once, not per
  // probe, and connected to without a resolver's results list.
  std::string literal_host;
  std::optional<asio::ip::address> literal;

  impl(asio::any_io_executor ex, client_options opts)
      : executor(ex),
        options(std::move(opts)),
        // A ca_file is loaded (and a bad one reported) up front; the system store only once an
        // https URL is actually used, as loading it costs ~1 MB and milliseconds.
        tls_context(options.tls_context || options.tls.ca_file.empty() ? options.tls_context
                                                                       : make_tls_context(options.tls)),
        resolver(options.resolver) {}

  void close() {
    secure.reset();
    if (conn) conn->close();
    h2.reset();
    connected_origin.reset();
    connect_pending = false;
    spare_read_buffers.give_back(buffer);
  }

  const asio::ip::address* literal_address(const std::string& host) {
    if (host != literal_host) {
      error_code ec;
      const auto address = asio::ip::make_address(host, ec);
      literal = ec ? std::nullopt : std::optional(address);
      literal_host = host;
    }
    return literal ? &*literal : nullptr;
  }

  // An operation's error, or the deadline's when it cancelled the operation.
  error_code timed(const error_code& ec) const {
    return ec && conn->timed_out() ? error_code(beast::error::timeout) : ec;
  }

  asio::awaitable<error_code> wait(tcp::socket::wait_type what) {
    if (conn->timed_out()) co_return beast::error::timeout;
    if (const error_code ec = conn->use_reactor()) co_return ec;
    auto [ec] = co_await conn->socket.async_wait(what, use_tuple);
    co_return timed(ec);
  }

  asio::awaitable<std::optional<tcp::resolver::results_type>> resolve(const url& target, result& r,
                                                                      time_point deadline) {
    const auto started = monotonic_clock::now();
    resolve_outcome outcome;
    try {
      if (!resolver) resolver = std::make_shared<dns_resolver>(executor, resolver_options_for(options));
      outcome = co_await resolver->resolve(target.host, target.port, deadline);
    } catch (const std::exception& e) {  // c-ares could not start, or dns_servers is malformed
      outcome.error = "cannot resolve '" + target.host + "': " + e.what();
    }
    r.timings.resolve = monotonic_clock::now() - started;
    if (!outcome.ok()) {
      fail(r, failure_kind::dns, std::move(outcome.error));
      co_return std::nullopt;
    }
    co_return tcp::resolver::results_type::create(outcome.endpoints.begin(), outcome.endpoints.end(),
                                                  target.host, std::to_string(target.port));
  }

  // Connects to one endpoint; `may_defer` leaves a handshake under way to the first send.
  asio::awaitable<error_code> connect_to(const tcp::endpoint& endpoint, bool may_defer) {
    conn->close();
    if (may_defer && conn->ring_available()) {  // plain http: socket and connect go with the send
      conn->ring_open(endpoint);
      connect_pending = true;
      co_return error_code();
    }
    error_code ec = conn->start_connect(endpoint);
    if (ec != asio::error::would_block) co_return ec;
    if (may_defer) {
      connect_pending = true;
      co_return error_code();
    }
    ec = co_await wait(tcp::socket::wait_write);
    co_return ec ? ec : conn->connect_result();
  }

  // The TCP handshake is done: the connection counts and gets its read buffer.
  void established(result& r) {
    connect_pending = false;
    r.timings.connect = monotonic_clock::now() - connect_started;
    ++opened;
    spare_read_buffers.take(buffer, options.max_header_bytes + read_block);
  }

  void fail_connect(const url& target, const error_code& ec, result& r) {
    r.timings.connect = monotonic_clock::now() - connect_started;
    if (ec == beast::error::timeout)
      fail(r, failure_kind::connect_timeout,
           "connect to " + target.authority() + " timed out after " + format_duration(r.timings.connect));
    else
      fail(r, failure_kind::connect, "connect to " + target.authority() + " failed: " + ec.message());
    close();
  }

  // Opens a TCP (and TLS) connection to target's origin, speaking the HTTP version `wanted`
  // leads to. False with r.failure set on error. A plain HTTP/1.1 connection's handshake may still
  // be under way (connect_pending).
  asio::awaitable<bool> connect(const url& target, http_version wanted, result& r, time_point start,
                                time_point deadline) {
    close();
    const time_point connect_deadline = std::min(deadline, start + options.connect_timeout);
    const asio::ip::address* address = literal_address(target.host);
    tcp::resolver::results_type endpoints;
    if (!address) {
      auto resolved = co_await resolve(target, r, connect_deadline);
      if (!resolved) co_return false;
      endpoints = std::move(*resolved);
    }

    connect_started = monotonic_clock::now();
    if (!conn) conn = std::make_shared<detail::connection>(executor);
    conn->set_deadline(connect_deadline);
    error_code ec = asio::error::host_not_found;
    // h2c writes its preface through the reactor, so only a plain HTTP/1.1 connect is deferred.
    const bool deferrable = !target.tls && wanted != http_version::v2;
    if (address) {
      ec = co_await connect_to(tcp::endpoint(*address, target.port), deferrable);
    } else {
      for (auto it = endpoints.begin(); it != endpoints.end(); ++it) {  // in turn, as Asio's range connect
        const bool last = std::next(it) == endpoints.end();
        ec = co_await connect_to(it->endpoint(), last && deferrable);
        if (!ec || ec == beast::error::timeout) break;
      }
    }
    if (ec) {
      fail_connect(target, ec, r);
      co_return false;
    }
    no_delay = false;
    connected_origin = target;
    connected_for = wanted;
    if (connect_pending) co_return true;
    established(r);

    if (target.tls) {
      conn->set_no_delay();
      no_delay = true;
      if ((ec = conn->use_reactor())) {
        fail(r, failure_kind::connect, "connect to " + target.authority() + " failed: " + ec.message());
        close();
        co_return false;
      }
      if (!tls_context) {
        try {
          tls_context = make_tls_context(options.tls);
        } catch (const std::exception& e) {
          fail(r, failure_kind::tls_handshake, e.what());
          close();
          co_return false;
        }
      }
      const auto tls_started = monotonic_clock::now();
      secure = std::make_unique<ssl::stream<tcp::socket&>>(conn->socket, *tls_context);
      SSL* session = secure->native_handle();
      if (!tls_peer(target.host).apply(session) || !detail::offer_alpn(session, wanted)) {
        fail(r, failure_kind::tls_handshake, "cannot set the TLS server name '" + target.host + "' or ALPN");
        close();
        co_return false;
      }
      conn->set_deadline(std::min(deadline, tls_started + options.tls_timeout));
      auto [raw_ec] = co_await secure->async_handshake(ssl::stream_base::client, use_tuple);
      const error_code hs_ec = timed(raw_ec);
      r.timings.tls = monotonic_clock::now() - tls_started;
      if (hs_ec) {
        const long verify = SSL_get_verify_result(session);
        if (hs_ec == beast::error::timeout)
          fail(r, failure_kind::tls_handshake,
               "TLS handshake timed out after " + format_duration(r.timings.tls));
        else if (verify != X509_V_OK && !options.tls.insecure)
          fail(r, failure_kind::tls_verify,
               std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify));
        else
          fail(r, failure_kind::tls_handshake, "TLS handshake failed: " + describe(hs_ec));
        close();
        co_return false;
      }
      connection_tls = read_tls_info(session);
    } else {
      connection_tls = tls_info{};
    }
    // On TLS the server's ALPN pick decides; on plain http, 2 means h2c with prior knowledge.
    if (target.tls ? connection_tls.alpn == "h2" : wanted == http_version::v2)
      h2 = std::make_unique<detail::http2_session>(options, user_agent);
    co_return true;
  }

  // Writes the whole request. On a plain connection the sends are the socket's own (no wait when
  // the kernel takes it all, as it does a request on a fresh connection); the first one confirms
  // a pending connect.
  asio::awaitable<error_code> write(const url& target, result& r, time_point deadline) {
    if (secure) {
      auto [ec, n] = co_await asio::async_write(*secure, asio::buffer(wire), use_tuple);
      (void)n;
      co_return timed(ec);
    }
    std::size_t sent = 0;
    while (sent < wire.size()) {
      error_code ec;
      sent += conn->send_some(asio::buffer(wire) + sent, ec);
      if (ec == asio::error::would_block) {
        ec = co_await wait(tcp::socket::wait_write);
        if (!ec && connect_pending) ec = conn->connect_result();
      }
      // A reset or closed peer accepted the connection first: that is the exchange's failure.
      if (ec && connect_pending && !is_closed_by_peer(ec)) {
        fail_connect(target, ec, r);
        co_return ec;
      }
      if (connect_pending) {
        established(r);
        conn->set_deadline(deadline);
      }
      if (ec) co_return ec;
    }
    co_return error_code();
  }

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer into) {
    if (conn->timed_out()) co_return std::tuple(error_code(beast::error::timeout), std::size_t{0});
    if (conn->on_ring()) {
      auto [ec, n] = co_await conn->ring_receive(into);
      co_return std::tuple(timed(ec), n);
    }
    if (secure) {
      auto [ec, n] = co_await secure->async_read_some(into, use_tuple);
      co_return std::tuple(timed(ec), n);
    }
    for (;;) {  // each turn waits for data or ends at the deadline
      error_code ec;
      const std::size_t n = conn->receive_some(into, ec);
      if (ec != asio::error::would_block) co_return std::tuple(ec, n);
      if (const error_code wait_ec = co_await wait(tcp::socket::wait_read))
        co_return std::tuple(wait_ec, std::size_t{0});
    }
  }

  // Reads into `buffer` until the parser has the header (header_only) or the whole message, by
  // beast::http::read_some's rules: the buffer's bound, end_of_stream before any byte, put_eof.
  asio::awaitable<error_code> parse(response_reader& parser, bool header_only) {
    for (;;) {
      if (parser.is_done() || (header_only && parser.is_header_done())) co_return error_code();
      if (buffer.size() > 0) {
        error_code ec;
        buffer.consume(parser.put(buffer.data(), ec));
        if (ec && ec != http::error::need_more) co_return ec;
        if (!ec) continue;  // an element parsed: done, or more bytes to parse or read
      }
      const std::size_t room = std::min(read_block, buffer.max_size() - buffer.size());
      if (room == 0) co_return http::error::buffer_overflow;
      auto [ec, n] = co_await read_some(buffer.prepare(room));
      buffer.commit(n);
      if (ec == asio::error::eof) {
        if (!parser.got_some()) co_return http::error::end_of_stream;
        error_code eof_ec;
        parser.put_eof(eof_ec);
        co_return eof_ec;
      }
      if (ec) co_return ec;
    }
  }

  // The request on a new stream of the open HTTP/2 connection, under the same one deadline.
  asio::awaitable<exchange_outcome> exchange_h2(const request& req, const url& target, result& r,
                                                time_point deadline) {
    conn->set_deadline(deadline);
    if (secure) co_return co_await h2->exchange(*secure, buffer, req, target, r, *conn);
    if (const error_code ec = conn->use_reactor()) co_return detail::write_failed(ec, r);
    co_return co_await h2->exchange(conn->socket, buffer, req, target, r, *conn);
  }

  // Writes the request and reads its response on the open connection.
  asio::awaitable<exchange_outcome> exchange(const request& req, const url& target, result& r,
                                             time_point deadline) {
    if (!connect_pending) conn->set_deadline(deadline);
    if (!no_delay && wire.size() > one_segment) {
      conn->set_no_delay();
      no_delay = true;
    }
    const bool was_pending = connect_pending;
    error_code write_ec, read_ec;
    time_point written_at;
    if (conn->on_ring()) {
      // The connect, the send and the first receive in one go: the outcome is told stage by
      // stage, as the sends and the read below tell it.
      spare_read_buffers.take(buffer, options.max_header_bytes + read_block);
      detail::connection::ring_outcome o;
      co_await conn->ring_exchange(asio::buffer(wire), buffer.prepare(read_block), deadline, o);
      // A reset or closed peer accepted the connection first, as in write().
      if (o.connect && !is_closed_by_peer(o.connect)) {
        fail_connect(target, timed(o.connect), r);
        co_return exchange_outcome::answered;
      }
      if (connect_pending) {
        established(r);
        if (!o.connect) r.timings.connect = o.connected_at - connect_started;
      }
      write_ec = timed(o.connect ? o.connect : o.send);
      written_at = o.sent_at;
      buffer.commit(o.received);
      read_ec = timed(o.receive);
    } else {
      write_ec = co_await write(target, r, deadline);
      written_at = monotonic_clock::now();
    }
    if (write_ec) {
      if (was_pending && r.failure != failure_kind::none) co_return exchange_outcome::answered;
      co_return detail::write_failed(write_ec, r);
    }

    if (buffer.size() == 0 && !conn->on_ring()) {
      // The answer takes a round trip through the server: the probes started beside this one go
      // first, so the read usually finds it instead of trying once in vain and waiting.
      if (!secure) co_await asio::post(executor, asio::use_awaitable);
      auto [ec, n] = co_await read_some(buffer.prepare(read_block));
      buffer.commit(n);
      read_ec = ec;
    }
    if (read_ec) {
      r.timings.ttfb = monotonic_clock::now() - written_at;
      if (r.connection_reused && is_closed_by_peer(read_ec) && buffer.size() == 0)
        co_return exchange_outcome::idle_closed;
      if (read_ec == beast::error::timeout)
        fail(r, failure_kind::timeout, "no response within " + format_duration(options.total_timeout));
      else if (is_closed_by_peer(read_ec))
        fail(r, failure_kind::reset, "connection closed before any response: " + describe(read_ec));
      else
        fail(r, failure_kind::reset, "reading the response failed: " + describe(read_ec));
      co_return exchange_outcome::answered;
    }
    const auto first_byte_at = monotonic_clock::now();
    r.timings.ttfb = first_byte_at - written_at;
    co_await read_response(req, r);
    r.timings.transfer = monotonic_clock::now() - first_byte_at;
    co_return exchange_outcome::answered;
  }

  // Reads the final response into r. Interim (1xx) responses before it are parsed and dropped
  // one by one, each with a fresh parser, so no byte of the final response stays in the buffer.
  asio::awaitable<void> read_response(const request& req, result& r) {
    std::optional<response_reader> parser;
    for (int interim = 0;; ++interim) {
      parser.emplace();
      parser->header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser->body_limit(options.max_body_bytes);
      parser->skip(req.method == "HEAD");
      if (const error_code ec = co_await parse(*parser, true)) co_return fail_read(*parser, ec, r);
      const int status = parser->status;
      if (status >= 200 || (status == 101 && find_header(req.headers, "Upgrade"))) break;
      if (status == 101) {
        r.status = status;
        co_return fail(r, failure_kind::protocol, "101 Switching Protocols without an upgrade request");
      }
      if (interim == max_interim_responses)
        co_return fail(r, failure_kind::protocol,
                       "more than " + std::to_string(max_interim_responses) + " interim (1xx) responses");
    }
    if (const error_code ec = co_await parse(*parser, false)) co_return fail_read(*parser, ec, r);

    r.status = parser->status;
    r.reason = std::move(parser->reason);
    r.headers = std::move(parser->headers);
    r.body = std::move(parser->body);
    // After an asked-for 101 the connection speaks another protocol: it is never reused.
    if (!parser->message_keep_alive() || !options.keep_alive || r.status == 101) close();
  }

  void fail_read(const response_reader& parser, const error_code& ec, result& r) const {
    if (ec == beast::error::timeout)
      fail(r, failure_kind::timeout,
           std::string(parser.is_header_done() ? "response body" : "response headers") +
               " not complete within " + format_duration(options.total_timeout));
    else if (ec == http::error::body_limit)
      fail(r, failure_kind::body_too_large,
           "response body exceeds " + std::to_string(options.max_body_bytes) + " bytes");
    else if (ec == http::error::header_limit)
      fail(r, failure_kind::protocol,
           "response headers exceed " + std::to_string(options.max_header_bytes) + " bytes");
    else if (ec == http::error::buffer_overflow)
      fail(r, failure_kind::protocol,
           "a chunk-size line or the trailers exceed " + std::to_string(buffer.max_size()) + " bytes");
    else if (ec == http::error::bad_chunk_extension)
      fail(r, failure_kind::protocol,
           "chunk extension malformed or over " + std::to_string(max_chunk_extension_bytes) + " bytes");
    else if (is_closed_by_peer(ec))
      fail(r, failure_kind::reset, "connection closed mid-response: " + describe(ec));
    else
      fail(r, failure_kind::protocol, "malformed HTTP response: " + describe(ec));
    if (parser.is_header_done()) r.status = parser.status;
  }

  // One hop: connect (or reuse), send, receive.
  asio::awaitable<void> send_once(const request& req, const url& target, result& r, time_point start,
                                  time_point deadline) {
    if (!serialized_for || !same_request(*serialized_for, req, target)) {
      const wire_options how{options.keep_alive, user_agent};
      if (!serialize_request(req.method, target.target, req.headers, req.body, target.authority(), how,
                             wire)) {
        serialized_for.reset();
        fail(r, failure_kind::protocol, "request method, target or a header contains a line break or space");
        co_return;
      }
      serialized_for = req;
      serialized_for->target = target;
    }
    const http_version wanted = req.version.value_or(options.version);
    for (;;) {
      r.timings = phase_timings{};
      r.connection_reused = connected_origin && connected_origin->same_origin(target) &&
                            connected_for == wanted && (!h2 || h2->reusable());
      if (!r.connection_reused && !co_await connect(target, wanted, r, start, deadline)) co_return;
      r.tls = connection_tls;
      r.protocol = h2 ? http_version::v2 : http_version::v1_1;
      exchange_outcome outcome;  // not a ?: of co_awaits: GCC 12 frees a temporary twice there
      if (h2)
        outcome = co_await exchange_h2(req, target, r, deadline);
      else
        outcome = co_await exchange(req, target, r, deadline);
      if (outcome == exchange_outcome::answered) {
        // An HTTP/1.1 response closes its connection itself when it asks to (read_response).
        if (!r.ok() || (h2 && (!options.keep_alive || !h2->reusable()))) close();
        co_return;
      }
      // The server closed the idle keep-alive connection before reading the request. A fresh
      // connection is never idle-closed, so this resends at most once.
      close();
      if (!is_idempotent(req.method)) {
        co_return fail(r, failure_kind::reset,
                       "the server closed the idle keep-alive connection before the request was answered (" +
                           req.method + " is not idempotent: not resent)");
      }
      ++r.reconnects;
    }
  }

  // The request a redirect leads to, built from `from` and the response `r` into `redirected`.
  // False (with r failed when the Location is invalid) when there is nothing to follow.
  bool follow_redirect(const request& from, result& r) {
    const std::string* location = r.header("Location");
    if (!location) return false;
    auto next = resolve_reference(from.target, *location);
    if (auto* error = std::get_if<url_error>(&next)) {
      fail(r, failure_kind::protocol, error->message);
      return false;
    }
    request to = from;
    to.target = std::get<url>(std::move(next));
    if (!to.target.same_origin(from.target)) drop_credentials(to.headers);
    if (r.status == 303 || ((r.status == 301 || r.status == 302) && from.method == "POST")) {
      to.method = "GET";
      to.body.clear();
    }
    if (!redirected) redirected = std::make_unique<request>();
    *redirected = std::move(to);
    return true;
  }

  // Locals stay few and small: a frame over ~1 KB misses both Asio's frame recycling and
  // malloc's thread cache, which showed at 1,000 probes/s.
  asio::awaitable<result> send(const request& req) {
    result r;
    const time_point start = monotonic_clock::now();
    const time_point deadline = start + options.total_timeout;
    const request* current = &req;
    for (;;) {
      co_await send_once(*current, current->target, r, start, deadline);
      r.effective_url = current->target.to_string();
      if (!r.ok() || !is_redirect(r.status) || r.redirects_followed >= options.max_redirects) break;
      if (!follow_redirect(*current, r)) break;
      current = redirected.get();
      ++r.redirects_followed;
    }
    if (conn) conn->clear_deadline();
    r.timings.total = monotonic_clock::now() - start;
    co_return r;
  }
};

http_client::http_client(asio::any_io_executor executor, client_options options)
    : impl_(std::make_unique<impl>(executor, std::move(options))) {}
http_client::~http_client() = default;

asio::awaitable<result> http_client::send(const request& req) { return impl_->send(req); }
void http_client::close() { impl_->close(); }
std::size_t http_client::connections_opened() const { return impl_->opened; }
const client_options& http_client::options() const { return impl_->options; }

result fetch(const request& req, const client_options& options) {
  asio::io_context io;
  http_client client(io.get_executor(), options);
  result out;
  std::exception_ptr error;
  asio::co_spawn(io, client.send(req), [&](std::exception_ptr e, result r) {
    error = e;
    out = std::move(r);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace watchpost::probes
