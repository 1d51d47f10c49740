// The HTTP/2 exchange over nghttp2. Coroutine bodies stay in this file so the stream types
// (plain and TLS) are instantiated once, here.
#include "http2_session.hpp"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <cstring>
#include <new>
#include <optional>

#include "connection.hpp"
#include "watchpost/probes/wire.hpp"

namespace watchpost::probes::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using time_point = monotonic_clock::time_point;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Flow-control windows (stream and connection): a response up to this size arrives without a
// WINDOW_UPDATE round trip. What is buffered stays bounded by max_body_bytes, checked per chunk.
constexpr std::uint32_t receive_window = 1 << 20;
// RFC 9113 6.5.2: a header list's size counts each field's name and value plus 32 bytes.
constexpr std::size_t header_field_overhead = 32;

// Fields that are per-connection in HTTP/1.1 and malformed in HTTP/2 (RFC 9113 8.2.2).
bool connection_specific(std::string_view name, std::string_view value) {
  return iequals(name, "Connection") || iequals(name, "Keep-Alive") || iequals(name, "Proxy-Connection") ||
         iequals(name, "Transfer-Encoding") || iequals(name, "Upgrade") ||
         (iequals(name, "TE") && value != "trailers");
}

std::string code_name(std::uint32_t code) { return nghttp2_http2_strerror(code); }

}  // namespace

bool offer_alpn(ssl_st* session, http_version wanted) {
  static constexpr unsigned char both[] = "\x02h2\x08http/1.1";
  static constexpr unsigned char http11[] = "\x08http/1.1";
  // SSL_set_alpn_protos returns 0 on success.
  return wanted == http_version::v1_1 ? SSL_set_alpn_protos(session, http11, sizeof http11 - 1) == 0
                                      : SSL_set_alpn_protos(session, both, sizeof both - 1) == 0;
}

std::string alpn_selected(const ssl_st* session) {
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(session, &name, &length);
  return name ? std::string(reinterpret_cast<const char*>(name), length) : std::string();
}

struct http2_session::state {
  nghttp2_session* session = nullptr;
  std::string user_agent;
  std::size_t max_header_bytes;
  std::size_t max_body_bytes;
  nanoseconds total_timeout;
  bool broken = false;  // the transport failed: no further request on this connection
  std::string out;      // frames to write
  // The request's header block: lower-case names in one string, values by reference (NO_COPY).
  std::vector<nghttp2_nv> nva;
  std::string names;
  std::string authority;
  std::string content_length;
  bool goaway = false;
  std::uint32_t goaway_code = 0;
  std::int32_t goaway_last_stream = 0;

  // The exchange in progress.
  std::int32_t stream_id = -1;
  result* r = nullptr;
  const std::string* body = nullptr;
  std::size_t body_sent = 0;
  bool request_sent = false;  // the frame with END_STREAM went out
  bool stream_seen = false;   // a frame for the stream arrived
  std::optional<time_point> first_byte_at;
  std::size_t header_bytes = 0;
  int status = 0;  // the :status of the header block being read
  int interim = 0;
  bool final_headers = false;
  bool in_trailers = false;
  bool closed = false;
  std::uint32_t close_code = 0;
  bool rst_received = false;
  std::uint32_t rst_code = 0;
  int local_error = 0;  // nghttp2's reason when it rejected a frame from the server
  enum class overflow { none, headers, body, interim } exceeded = overflow::none;

  bool ours(std::int32_t id) const { return id == stream_id && stream_id > 0; }
  bool done() const { return closed || exceeded != overflow::none; }

  void begin(result& res, const request& req) {
    stream_id = -1;
    r = &res;
    res.headers.clear();
    res.body.clear();
    res.reason.clear();
    body = &req.body;
    body_sent = 0;
    request_sent = stream_seen = final_headers = in_trailers = closed = rst_received = false;
    first_byte_at.reset();
    header_bytes = 0;
    status = interim = local_error = 0;
    close_code = rst_code = 0;
    exceeded = overflow::none;
  }

  // Appends a field whose lower-case name is names[at, at + length) and advances `at` past it.
  void add(std::size_t& at, std::size_t length, std::string_view value) {
    nva.push_back({reinterpret_cast<std::uint8_t*>(names.data() + at),
                   const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(value.data())), length,
                   value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE});
    at += length;
  }

  // Submits req as a new stream. False with r failed when nghttp2 refuses it.
  bool submit(const request& req, const url& target) {
    static constexpr std::string_view pseudo[] = {":method", ":scheme", ":authority", ":path"};
    static constexpr std::string_view agent_name = "user-agent";
    static constexpr std::string_view length_name = "content-length";
    const std::string* host = find_header(req.headers, "Host");
    authority = host ? *host : target.authority();
    const bool add_agent = !user_agent.empty() && !find_header(req.headers, "User-Agent");
    const bool add_length = sends_body(req.method, req.body) && !find_header(req.headers, "Content-Length");
    auto carried = [](const header_field& h) {
      return !iequals(h.name, "Host") && !connection_specific(h.name, h.value);
    };
    // Names are lower-cased into one string first (its buffer must not move while nva points
    // into it), then the header block points at them and at the request's own values.
    names.clear();
    for (auto p : pseudo) names.append(p);
    names.append(agent_name).append(length_name);
    for (const auto& h : req.headers)
      if (carried(h))
        for (char c : h.name) names.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));

    nva.clear();
    std::size_t at = 0;
    const std::string_view values[] = {req.method, target.tls ? "https" : "http", authority, target.target};
    for (std::size_t i = 0; i < std::size(pseudo); ++i) add(at, pseudo[i].size(), values[i]);
    if (add_agent)
      add(at, agent_name.size(), user_agent);
    else
      at += agent_name.size();
    if (add_length) {
      content_length = std::to_string(req.body.size());
      add(at, length_name.size(), content_length);
    } else {
      at += length_name.size();
    }
    for (const auto& h : req.headers)
      if (carried(h)) add(at, h.name.size(), h.value);

    nghttp2_data_provider provider{};
    provider.read_callback = read_body;
    const auto id = nghttp2_submit_request(session, nullptr, nva.data(), nva.size(),
                                           req.body.empty() ? nullptr : &provider, nullptr);
    if (id < 0) {
      fail(*r, failure_kind::protocol,
           std::string("cannot send the request over HTTP/2: ") + nghttp2_strerror(id));
      return false;
    }
    stream_id = id;
    return true;
  }

  // Frames nghttp2 wants written, into `out`. False with r failed on an nghttp2 error.
  bool collect_output() {
    out.clear();
    for (;;) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session, &data);
      if (n < 0) {
        fail(*r, failure_kind::protocol,
             std::string("HTTP/2 error: ") + nghttp2_strerror(static_cast<int>(n)));
        return false;
      }
      if (n == 0) return true;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
  }

  // The stream did not end with a response: the most specific reason first.
  exchange_outcome fail_stream() {
    result& res = *r;
    if (exceeded == overflow::headers)
      fail(res, failure_kind::protocol,
           "response headers exceed " + std::to_string(max_header_bytes) + " bytes");
    else if (exceeded == overflow::body)
      fail(res, failure_kind::body_too_large,
           "response body exceeds " + std::to_string(max_body_bytes) + " bytes");
    else if (exceeded == overflow::interim)
      fail(res, failure_kind::protocol,
           "more than " + std::to_string(max_interim_responses) + " interim (1xx) responses");
    else if (rst_received)
      fail(res, failure_kind::protocol, "RST_STREAM " + code_name(rst_code));
    else if (goaway && goaway_last_stream < stream_id) {
      // The server will not process the stream: on a reused connection it went away while idle.
      if (res.connection_reused && !stream_seen) return exchange_outcome::idle_closed;
      fail(res, failure_kind::protocol,
           "GOAWAY " + code_name(goaway_code) + " (last stream " + std::to_string(goaway_last_stream) +
               ", request on stream " + std::to_string(stream_id) + " refused)");
    } else if (goaway)
      fail(res, failure_kind::protocol,
           "GOAWAY " + code_name(goaway_code) + " before the response was complete");
    else if (closed && close_code != NGHTTP2_NO_ERROR)
      fail(res, failure_kind::protocol,
           "HTTP/2 stream error " + code_name(close_code) +
               (local_error ? std::string(": ") + nghttp2_strerror(local_error) : std::string()));
    else if (closed)
      fail(res, failure_kind::protocol, "HTTP/2 stream ended without a final response");
    else
      fail(res, failure_kind::protocol,
           std::string("HTTP/2 protocol error: ") +
               (local_error ? nghttp2_strerror(local_error) : "the session ended before the response"));
    if (final_headers) res.status = status;
    return exchange_outcome::answered;
  }

  // The transport failed before the stream was done.
  exchange_outcome read_failed(const error_code& ec) {
    result& res = *r;
    broken = true;
    if (goaway || rst_received) return fail_stream();
    if (ec == beast::error::timeout) {
      const char* what = !first_byte_at   ? "no response"
                         : !final_headers ? "response headers not complete"
                                          : "response body not complete";
      fail(res, failure_kind::timeout, std::string(what) + " within " + format_duration(total_timeout));
    } else if (is_closed_by_peer(ec)) {
      if (res.connection_reused && !stream_seen) return exchange_outcome::idle_closed;
      fail(res, failure_kind::reset,
           std::string(stream_seen ? "connection closed mid-response: "
                                   : "connection closed before any response: ") +
               describe(ec));
    } else {
      fail(res, failure_kind::reset, "reading the response failed: " + describe(ec));
    }
    if (final_headers) res.status = status;
    return exchange_outcome::answered;
  }

  // Callbacks: user_data is the state.
  static state& self(void* user_data) { return *static_cast<state*>(user_data); }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user_data) {
    state& s = self(user_data);
    const std::size_t n = std::min(length, s.body->size() - s.body_sent);
    std::memcpy(buf, s.body->data() + s.body_sent, n);
    s.body_sent += n;
    if (s.body_sent == s.body->size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    state& s = self(user_data);
    if (s.ours(frame->hd.stream_id) && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) s.request_sent = true;
    return 0;
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    state& s = self(user_data);
    if (!s.ours(frame->hd.stream_id)) return 0;
    s.stream_seen = true;
    if (!s.first_byte_at) s.first_byte_at = monotonic_clock::now();
    if (s.final_headers) {
      s.in_trailers = true;
    } else {
      s.status = 0;
      s.r->headers.clear();  // an interim response's fields
    }
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t name_length, const std::uint8_t* value, std::size_t value_length,
                       std::uint8_t, void* user_data) {
    state& s = self(user_data);
    if (!s.ours(frame->hd.stream_id)) return 0;
    s.header_bytes += name_length + value_length + header_field_overhead;
    if (s.header_bytes > s.max_header_bytes) {
      s.exceeded = overflow::headers;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (s.in_trailers) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), name_length);
    const std::string_view v(reinterpret_cast<const char*>(value), value_length);
    if (n == ":status") {
      // nghttp2's HTTP messaging checks have validated it: three digits.
      s.status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
    } else if (!n.starts_with(':')) {
      if (s.r->headers.empty()) s.r->headers.reserve(8);
      s.r->headers.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    state& s = self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      s.goaway = true;
      s.goaway_code = frame->goaway.error_code;
      s.goaway_last_stream = frame->goaway.last_stream_id;
      return 0;
    }
    if (!s.ours(frame->hd.stream_id)) return 0;
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
      s.rst_received = true;
      s.rst_code = frame->rst_stream.error_code;
    } else if (frame->hd.type == NGHTTP2_HEADERS && !s.in_trailers) {
      if (s.status >= 200) {
        s.final_headers = true;
      } else if (++s.interim > max_interim_responses) {
        s.exceeded = overflow::interim;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
                           std::size_t length, void* user_data) {
    state& s = self(user_data);
    if (!s.ours(stream_id)) return 0;
    s.stream_seen = true;
    if (s.r->body.size() + length > s.max_body_bytes) {
      s.exceeded = overflow::body;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    s.r->body.append(reinterpret_cast<const char*>(data), length);
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                             void* user_data) {
    state& s = self(user_data);
    if (!s.ours(stream_id)) return 0;
    s.closed = true;
    s.close_code = error_code;
    return 0;
  }

  static int on_invalid_frame(nghttp2_session*, const nghttp2_frame*, int lib_error_code, void* user_data) {
    state& s = self(user_data);
    if (!s.local_error) s.local_error = lib_error_code;
    return 0;
  }

  // Connection errors nghttp2 finds outside a frame it could parse (a bad frame size, a
  // malformed preface); the message is nghttp2's and is not used: it may quote server bytes.
  static int on_error(nghttp2_session*, int lib_error_code, const char*, std::size_t, void* user_data) {
    state& s = self(user_data);
    if (!s.local_error) s.local_error = lib_error_code;
    return 0;
  }
};

namespace {

template <class Stream>
asio::awaitable<exchange_outcome> run_exchange(http2_session::state& s, Stream& stream,
                                               beast::flat_buffer& buffer, const request& req,
                                               const url& target, result& r, const connection& conn) {
  s.begin(r, req);
  if (!s.submit(req, target)) co_return exchange_outcome::answered;
  // An operation the deadline cancelled reads as a timeout.
  const auto timed = [&conn](const error_code& ec) {
    return ec && conn.timed_out() ? error_code(beast::error::timeout) : ec;
  };
  std::optional<time_point> written_at;
  for (;;) {
    if (!s.collect_output()) co_return exchange_outcome::answered;
    if (!s.out.empty()) {
      auto [write_ec, n] = co_await asio::async_write(stream, asio::buffer(s.out), use_tuple);
      (void)n;
      if (const error_code ec = timed(write_ec)) {
        s.broken = true;
        if (!s.done()) co_return write_failed(ec, r);
        break;  // the response is complete: only its acknowledgements were lost
      }
      if (s.request_sent && !written_at) written_at = monotonic_clock::now();
    }
    if (s.done() || !nghttp2_session_want_read(s.session)) break;
    auto [read_ec, n] = co_await stream.async_read_some(buffer.prepare(read_block), use_tuple);
    const error_code ec = timed(read_ec);
    buffer.commit(n);
    if (buffer.size() > 0) {
      const auto consumed = nghttp2_session_mem_recv(
          s.session, static_cast<const std::uint8_t*>(buffer.data().data()), buffer.size());
      buffer.consume(buffer.size());
      if (consumed < 0) {
        s.broken = true;
        if (s.exceeded == http2_session::state::overflow::none && !s.local_error)
          s.local_error = static_cast<int>(consumed);
        break;
      }
    }
    if (ec) {
      if (!s.done()) co_return s.read_failed(ec);
      s.broken = true;
    }
  }
  if (!s.closed || s.close_code != NGHTTP2_NO_ERROR || !s.final_headers ||
      s.exceeded != http2_session::state::overflow::none) {
    s.broken = s.broken || !nghttp2_session_want_read(s.session);
    co_return s.fail_stream();
  }
  const time_point now = monotonic_clock::now();
  const time_point first = *s.first_byte_at;
  r.status = s.status;
  r.timings.ttfb = written_at && *written_at < first ? first - *written_at : nanoseconds{0};
  r.timings.transfer = now - first;
  co_return exchange_outcome::answered;
}

}  // namespace

http2_session::http2_session(const client_options& options, std::string_view user_agent)
    : state_(std::make_unique<state>()) {
  state& s = *state_;
  s.user_agent = user_agent;
  s.max_header_bytes = options.max_header_bytes;
  s.max_body_bytes = options.max_body_bytes;
  s.total_timeout = options.total_timeout;

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, state::on_frame_send);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, state::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, state::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, state::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, state::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, state::on_stream_close);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, state::on_invalid_frame);
  nghttp2_session_callbacks_set_error_callback2(callbacks, state::on_error);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_max_reserved_remote_streams(option, 0);  // no push state kept
  const int rv = nghttp2_session_client_new2(&s.session, callbacks, &s, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) throw std::bad_alloc();

  // The HPACK table the server may fill stays at the default 4 KiB; the header list a response
  // may carry is announced (and enforced in on_header) at the client's header limit.
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX))},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, receive_window},
  };
  nghttp2_submit_settings(s.session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(s.session, NGHTTP2_FLAG_NONE, 0, receive_window);
}

http2_session::~http2_session() { nghttp2_session_del(state_->session); }

asio::awaitable<exchange_outcome> http2_session::exchange(tcp::socket& stream, beast::flat_buffer& buffer,
                                                          const request& req, const url& target, result& r,
                                                          const connection& conn) {
  return run_exchange(*state_, stream, buffer, req, target, r, conn);
}

asio::awaitable<exchange_outcome> http2_session::exchange(asio::ssl::stream<tcp::socket&>& stream,
                                                          beast::flat_buffer& buffer, const request& req,
                                                          const url& target, result& r,
                                                          const connection& conn) {
  return run_exchange(*state_, stream, buffer, req, target, r, conn);
}

bool http2_session::reusable() const {
  const state& s = *state_;
  return !s.broken && !s.goaway && nghttp2_session_check_request_allowed(s.session) &&
         nghttp2_session_want_read(s.session);
}

}  // namespace watchpost::probes::detail
