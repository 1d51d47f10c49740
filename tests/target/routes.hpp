#pragma once
// Routing for the test target: request -> reply plan, with no I/O. The session (server.cpp)
// carries the plan out; faults that are not an ordinary message (slow bodies, resets,
// garbage, stalls, hostile framing) are a `reply_kind` the session knows how to perform.
//
// Fault routes for clients' protocol handling (all HTTP/1.1):
//   GET /interim?code=103&count=1&then=200  `count` (1..10) interim responses `code` (100..199
//       but 101; a 103 carries a Link header), then the final `then` (200..599), "final <then>\n",
//       keep-alive.
//   GET /switching    101 Switching Protocols although no upgrade was asked; then held open
//       until the peer closes or `raw_limit` passes.
//   GET /hostile/NAME raw bytes no conforming server sends (see `hostile_names`); endless ones
//       write at full speed until the peer closes or `raw_limit` passes. Unknown NAME: 404.
//   GET /reset?code=N  HTTP/1.1: a TCP RST mid-body; HTTP/2: RST_STREAM with error code N (0..13,
//       default 2 INTERNAL_ERROR) after the head and 10 body bytes.
//   POST /stall-window  never answered; HTTP/2 never credits its body (no WINDOW_UPDATE: the client's
//       stream and connection windows run out after 65,535 bytes); HTTP/1.1 reads it, then as /stall.
// The --idle-timeout flag (server.cpp) closes keep-alive connections idle that long.
#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config.hpp"

namespace watchpost::test_target {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

inline constexpr std::size_t header_limit = 64 * 1024;
inline constexpr std::uint64_t body_limit = 10 * 1024 * 1024;

enum class reply_kind {
  message,  // write `res` as is
  delayed,  // wait `wait`, then write `res`
  drip,     // header (Content-Length `size`), then one byte every `wait`
  bytes,    // header (Content-Length `size`), then `size` pattern bytes in large writes
  chunked,  // header (chunked), then `size` pattern bytes in 1000-byte chunks
  reset,    // header (Content-Length 1000), 10 bytes, then an RST
  garbage,  // "NOT-HTTP garbage\r\n\r\n", then close
  stall,    // never answer; hold the connection until the peer closes
  raw,      // write `raw` verbatim, then end as `after` says
};

// How a `raw` reply ends.
enum class raw_end {
  close,     // close cleanly (TLS close_notify, then FIN)
  truncate,  // FIN on the TCP socket, no TLS close_notify
  hold,      // read and discard until the peer closes or `raw_limit` passes
  endless,   // write `endless` over and over until the peer closes or `raw_limit` passes
};

// Bounds every held or endless raw reply, so no fault runs forever.
inline constexpr std::chrono::seconds raw_limit{30};

// The /hostile/NAME routes, in the order the 404 lists them:
//   chunk-ext-endless  chunked, then "1;" and endless "a=b;" chunk extension bytes, no LF ever
//   chunk-huge         chunked with chunk size ffffffffffffffffffff, a few bytes, close
//   cl-te              Content-Length: 5 and Transfer-Encoding: chunked with a chunked body, close
//   two-cl             Content-Length: 5 and Content-Length: 7, a 5-byte body, close
//   lf-only            a valid response with bare LF line endings, close
//   nul-header         a header value holding a NUL byte, close
//   no-reason          status line "HTTP/1.1 200" (no reason phrase), otherwise valid, close
//   early-close        "HTTP/1.1 200 OK\r\nContent-Le", close
//   close-delimited    Connection: close and 1000 body bytes ended by the close (valid)
//   tls-truncation     Content-Length: 1000, 10 bytes, FIN without TLS close_notify
//   endless-body       Content-Length: 1000000000000 and endless body bytes
//   endless-headers    status line, then endless "X-Pad: aaaa...\r\n" header lines
//   endless-trailers   chunked, last chunk "0\r\n", then endless "X-T: aaaa\r\n" trailers
//   interim-then-final the bytes of /interim?code=103&then=503
inline constexpr std::string_view hostile_names[] = {
    "chunk-ext-endless", "chunk-huge",        "cl-te",        "two-cl",
    "lf-only",           "nul-header",        "no-reason",    "early-close",
    "close-delimited",   "tls-truncation",    "endless-body", "endless-headers",
    "endless-trailers",  "interim-then-final"};

struct reply {
  response res;
  reply_kind kind = reply_kind::message;
  unsigned interim_code = 0;  // 1xx responses sent before `res`: `interim_count` of them
  unsigned interim_count = 0;
  std::uint32_t h2_error = 2;  // reply_kind::reset over HTTP/2: the RST_STREAM error code
  std::string raw;             // reply_kind::raw: the bytes, then `after`
  raw_end after = raw_end::close;
  std::string endless;  // raw_end::endless: the unit written over and over
  std::uint64_t size = 0;
  std::chrono::milliseconds wait{0};
  bool bypass_freeze = false;  // the freeze control answer itself is never held
};

// Uploaded files, XOR-ed with 0x5A at rest. Bounded: the oldest entries go first.
class file_store {
 public:
  static constexpr std::size_t max_files = 1000;
  static constexpr std::size_t max_bytes = 256 * 1024 * 1024;

  std::string put(std::string body);  // returns the new 16-hex-char id
  std::optional<std::size_t> size(const std::string& id) const;
  std::optional<std::string> raw(const std::string& id) const;  // the at-rest (XOR-ed) bytes

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> files_;
  std::deque<std::string> order_;
  std::size_t bytes_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

// Everything shared by all connections on all threads.
struct server_state {
  explicit server_state(const config& c) : cfg(c) {}

  const config& cfg;
  unsigned short http_port = 0;
  unsigned short https_port = 0;
  const monotonic_clock::time_point started = monotonic_clock::now();
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> requests{0};
  file_store files;

  // Responses are held until this time point (see /control/freeze).
  void freeze_for(nanoseconds d);
  monotonic_clock::time_point frozen_until() const {
    return monotonic_clock::time_point(
        monotonic_clock::duration(frozen_until_.load(std::memory_order_relaxed)));
  }

 private:
  std::atomic<monotonic_clock::rep> frozen_until_{0};
};

// The reply for a complete request, with the common headers (Server, HSTS, keep-alive,
// Content-Length) already applied.
reply route(const request& req, server_state& st, bool tls);

// True for routes whose request body the server never reads (/stall-window): HTTP/2 decides
// this from the path alone, before the body arrives.
bool stops_reading(std::string_view target);

// The reply to a request that could not be read (413, 431, 400); always closes.
reply error_reply(http::status status, unsigned version, const server_state& st, bool tls);

// Deterministic body content: byte i of /bytes and /chunked is 'a' + i % 26.
// Returns `len` bytes (len <= pattern_max) starting at stream offset `offset`.
inline constexpr std::size_t pattern_max = 64 * 1024;
std::string_view pattern_slice(std::uint64_t offset, std::size_t len);

}  // namespace watchpost::test_target
