#include "h2_session.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

#include "faults.hpp"

namespace watchpost::test_target {

namespace {

// Read as a frame header its length (0x4E4F54) exceeds every SETTINGS_MAX_FRAME_SIZE: a
// connection error at the peer, as the bytes are a parse error to an HTTP/1.1 client.
constexpr std::string_view garbage_bytes = "NOT-HTTP garbage\r\n\r\n";
constexpr std::uint64_t reset_after_bytes = 10;
constexpr std::size_t max_send_header_block = 1024 * 1024;
constexpr auto reset_pause = std::chrono::milliseconds(50);  // the client sees the head first (as HTTP/1.1)

// Fields HTTP/2 forbids (RFC 9113 8.2.2): HTTP/1.1 connection framing, dropped from replies.
bool connection_specific(http::field f) {
  return f == http::field::connection || f == http::field::keep_alive || f == http::field::proxy_connection ||
         f == http::field::transfer_encoding || f == http::field::upgrade;
}

nghttp2_nv name_value(std::string_view name, std::string_view value) {
  // nghttp2 copies the pair on submit and never writes through these pointers.
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

std::string_view text(const std::uint8_t* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

}  // namespace

// nghttp2's C callbacks, forwarding to the session passed as user_data.
struct h2_callbacks {
  static h2_session& self(void* user_data) { return *static_cast<h2_session*>(user_data); }

  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
      self(user_data).streams_[frame->hd.stream_id].req.version(20);
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
                    void* user_data) {
    auto& streams = self(user_data).streams_;
    auto it = streams.find(frame->hd.stream_id);
    if (it == streams.end()) return 0;
    h2_session::stream& s = it->second;
    s.header_bytes += namelen + valuelen;
    if (s.header_bytes > header_limit) s.error = http::status::request_header_fields_too_large;
    if (s.error) return 0;
    const auto n = text(name, namelen);
    const auto v = text(value, valuelen);
    if (n == ":method") {
      if (const auto verb = http::string_to_verb(v); verb != http::verb::unknown)
        s.req.method(verb);
      else
        s.req.method_string(v);
    } else if (n == ":path") {
      s.req.target(v);
      s.stops_reading = stops_reading(v);
    } else if (n == ":authority") {
      s.req.set(http::field::host, v);
    } else if (!n.starts_with(':')) {
      s.req.insert(n, v);
    }
    return 0;
  }

  static int data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                        std::size_t len, void* user_data) {
    auto& streams = self(user_data).streams_;
    auto it = streams.find(id);
    if (it != streams.end() && it->second.stops_reading) return 0;  // no credit: the windows run out
    nghttp2_session_consume(session, id, len);
    if (it == streams.end() || it->second.error) return 0;
    auto& body = it->second.req.body();
    if (body.size() + len > body_limit)
      it->second.error = http::status::payload_too_large;
    else
      body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    auto& self = h2_callbacks::self(user_data);
    const std::int32_t id = frame->hd.stream_id;
    auto it = self.streams_.find(id);
    if (it == self.streams_.end()) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      // A stream after our GOAWAY's last one, read before the GOAWAY went out: never processed.
      if (self.goaway_last_ && id > *self.goaway_last_) {
        self.streams_.erase(it);
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
        return 0;
      }
      const auto& limit = self.st_.cfg.h2_goaway_after;
      if (limit && ++self.streams_received_ == *limit) {
        nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
        self.goaway_last_ = id;
      }
    }
    const bool request_end = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                             (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (request_end) self.on_request(id, it->second);
    return 0;
  }

  static int stream_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user_data) {
    self(user_data).streams_.erase(id);  // timers still naming it find nothing
    return 0;
  }

  // A response nghttp2 could not send: reset the stream, so the client is not left waiting.
  static int frame_not_send(nghttp2_session* session, const nghttp2_frame* frame, int, void*) {
    if (frame->hd.type == NGHTTP2_HEADERS)
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_INTERNAL_ERROR);
    return 0;
  }

  static ssize_t read(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t length,
                      std::uint32_t* flags, nghttp2_data_source*, void* user_data) {
    auto& self = h2_callbacks::self(user_data);
    auto it = self.streams_.find(id);
    if (it == self.streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return self.read_body(id, it->second, buf, length, flags);
  }
};

h2_session::h2_session(server_state& st, bool tls) : st_(st), tls_(tls) {
  nghttp2_session_callbacks* raw_callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&raw_callbacks) != 0) throw std::bad_alloc();
  const std::unique_ptr<nghttp2_session_callbacks, void (*)(nghttp2_session_callbacks*)> callbacks(
      raw_callbacks, nghttp2_session_callbacks_del);
  nghttp2_session_callbacks_set_on_begin_headers_callback(raw_callbacks, h2_callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(raw_callbacks, h2_callbacks::header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw_callbacks, h2_callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(raw_callbacks, h2_callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(raw_callbacks, h2_callbacks::stream_close);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(raw_callbacks, h2_callbacks::frame_not_send);

  nghttp2_option* raw_option = nullptr;
  if (nghttp2_option_new(&raw_option) != 0) throw std::bad_alloc();
  const std::unique_ptr<nghttp2_option, void (*)(nghttp2_option*)> option(raw_option, nghttp2_option_del);
  // WINDOW_UPDATE only for consumed bytes: stops_reading() streams consume nothing.
  nghttp2_option_set_no_auto_window_update(raw_option, 1);
  // /huge-headers sends about 200 KB of fields (64 KiB by default): the client's limit should meet it.
  nghttp2_option_set_max_send_header_block_length(raw_option, max_send_header_block);

  if (const int rv = nghttp2_session_server_new2(&session_, raw_callbacks, this, raw_option); rv != 0)
    throw std::runtime_error(std::string("nghttp2_session_server_new2: ") + nghttp2_strerror(rv));
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, st.cfg.h2_max_streams}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
}

h2_session::~h2_session() { nghttp2_session_del(session_); }

bool h2_session::receive(std::string_view bytes) {
  const auto n =
      nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return n >= 0;
}

void h2_session::produce(std::string& out, std::size_t limit) {
  while (!broken_ && out.size() < limit) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      broken_ = true;
    } else if (n == 0) {
      if (garbage_) {
        out += garbage_bytes;
        broken_ = true;
      }
      return;
    } else {
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
  }
}

monotonic_clock::time_point h2_session::next_deadline() const {
  auto next = monotonic_clock::time_point::max();
  for (const auto& t : timers_) next = std::min(next, t.when);
  return next;
}

void h2_session::run_due(monotonic_clock::time_point now) {
  auto split = std::partition(timers_.begin(), timers_.end(), [&](const timed& t) { return t.when > now; });
  if (split == timers_.end()) return;
  const std::vector<timed> due(split, timers_.end());  // the actions may schedule more
  timers_.erase(split, timers_.end());
  for (const auto& t : due) {
    auto it = streams_.find(t.stream_id);
    if (it == streams_.end()) continue;
    switch (t.what) {
      case action::respond:
        respond(t.stream_id, it->second);
        break;
      case action::drip:
        it->second.drip_ready = true;
        nghttp2_session_resume_data(session_, t.stream_id);
        break;
      case action::reset:
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, t.stream_id, it->second.rep.h2_error);
        break;
    }
  }
}

void h2_session::shut_down() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

bool h2_session::done() const {
  return broken_ || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_));
}

void h2_session::on_request(std::int32_t id, stream& s) {
  if (s.error) {
    s.rep = error_reply(*s.error, s.req.version(), st_, tls_);
  } else {
    st_.requests.fetch_add(1, std::memory_order_relaxed);
    s.rep = route(s.req, st_, tls_);
  }
  switch (s.rep.kind) {
    case reply_kind::stall:
      return;
    case reply_kind::raw:
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_HTTP_1_1_REQUIRED);
      return;
    case reply_kind::garbage:
      garbage_ = true;
      return;
    case reply_kind::delayed:
      schedule(s.rep.wait, id, action::respond);
      return;
    default:
      respond(id, s);
  }
}

void h2_session::respond(std::int32_t id, stream& s) {
  const reply& r = s.rep;
  if (const auto until = st_.frozen_until(); !r.bypass_freeze && monotonic_clock::now() < until) {
    timers_.push_back({until, id, action::respond});  // re-checked then: the freeze may be extended
    return;
  }
  for (unsigned i = 0; i < r.interim_count; ++i) submit_headers(id, r.interim_code, nullptr, false, false);
  const bool whole_message = r.kind == reply_kind::message || r.kind == reply_kind::delayed;
  submit_headers(id, r.res.result_int(), &r.res, true, !whole_message || !r.res.body().empty());
  if (r.kind == reply_kind::drip && r.size > 0) schedule(r.wait, id, action::drip);
}

// HEADERS for `id`: the response when `is_final` (with a body from read_body() when `with_body`),
// else an interim one carrying interim_link(status).
void h2_session::submit_headers(std::int32_t id, unsigned status, const http::fields* fields, bool is_final,
                                bool with_body) {
  status_ = std::to_string(status);
  nva_.assign(1, name_value(":status", status_));
  if (fields) {
    std::size_t count = 0;
    for (const auto& f : *fields) count += connection_specific(f.name()) ? 0 : 1;
    if (names_.size() < count) names_.resize(count);  // no growth below: the views stay valid
    std::size_t i = 0;
    for (const auto& f : *fields) {
      if (connection_specific(f.name())) continue;
      std::string& name = names_[i++];
      name.assign(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
      });  // h2 wants lower case
      nva_.push_back(name_value(name, f.value()));
    }
  } else if (auto link = interim_link(status); !link.empty()) {
    nva_.push_back(name_value("link", link));
  }
  if (!is_final) {
    nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, id, nullptr, nva_.data(), nva_.size(), nullptr);
    return;
  }
  nghttp2_data_provider body{};
  body.read_callback = h2_callbacks::read;
  nghttp2_submit_response(session_, id, nva_.data(), nva_.size(), with_body ? &body : nullptr);
}

long h2_session::read_body(std::int32_t id, stream& s, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags) {
  const reply& r = s.rep;
  auto copy = [&](std::string_view bytes, std::uint64_t total) {
    if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
    s.sent += bytes.size();
    if (s.sent == total) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<long>(bytes.size());
  };
  auto pattern = [&](std::uint64_t total) {
    return pattern_slice(s.sent, static_cast<std::size_t>(std::min<std::uint64_t>(length, total - s.sent)));
  };
  switch (r.kind) {
    case reply_kind::drip: {
      if (s.sent == r.size) return copy({}, r.size);  // an empty drip
      if (!s.drip_ready) return NGHTTP2_ERR_DEFERRED;
      s.drip_ready = false;
      const long n = copy(pattern_slice(s.sent, 1), r.size);
      if (s.sent < r.size) schedule(r.wait, id, action::drip);
      return n;
    }
    case reply_kind::reset: {
      // Content-Length says 1000: the body never ends, the RST_STREAM comes after 10 bytes.
      if (s.sent == reset_after_bytes) return NGHTTP2_ERR_DEFERRED;
      const long n = copy(pattern(reset_after_bytes), std::numeric_limits<std::uint64_t>::max());
      if (s.sent == reset_after_bytes) schedule(reset_pause, id, action::reset);
      return n;
    }
    case reply_kind::bytes:
    case reply_kind::chunked:
      return copy(pattern(r.size), r.size);
    default: {
      const std::string_view body = r.res.body();
      return copy(body.substr(s.sent, length), body.size());
    }
  }
}

void h2_session::schedule(monotonic_clock::duration after, std::int32_t id, action what) {
  timers_.push_back({monotonic_clock::now() + after, id, what});
}

}  // namespace watchpost::test_target
