#pragma once
// One HTTP/2 server connection of the test target, without I/O: bytes in (receive), bytes out
// (produce) and timed actions (next_deadline, run_due). nghttp2 does the framing; each request
// goes through the same route() as HTTP/1.1, and the reply plan is carried out in h2 terms:
//   message, delayed   HEADERS (+ DATA); `delayed` after its wait
//   bytes, chunked     HEADERS, then the pattern bytes in DATA frames (chunked: no content-length)
//   drip               HEADERS, then one DATA byte every `wait`
//   reset              HEADERS (content-length 1000), 10 bytes, RST_STREAM with `h2_error` 50 ms later
//   garbage            "NOT-HTTP garbage\r\n\r\n" written into the connection (a frame header no
//                      peer accepts), then the connection ends
//   stall              the stream is never answered; the connection serves other streams
//   raw (/hostile/*, /switching)  RST_STREAM HTTP_1_1_REQUIRED: the faults are HTTP/1.1 framing
//   interim 1xx        HEADERS frames with :status 1xx (and the 103's link) before the final one
// Connection faults (config): SETTINGS_MAX_CONCURRENT_STREAMS = --h2-max-streams; GOAWAY
// (NO_ERROR, last stream = the Nth) once --h2-goaway-after N streams arrived, later streams
// refused; stops_reading() routes never get WINDOW_UPDATE credit for their body.
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "routes.hpp"

namespace watchpost::test_target {

class h2_session {
 public:
  h2_session(server_state& st, bool tls);
  ~h2_session();
  h2_session(const h2_session&) = delete;
  h2_session& operator=(const h2_session&) = delete;

  // Feeds bytes read from the peer; false on a connection error (nghttp2 may have a GOAWAY to send).
  bool receive(std::string_view bytes);
  // Appends the next bytes to send to `out`, about `limit` at most (a large body goes out in rounds).
  void produce(std::string& out, std::size_t limit);
  // The earliest timed action (a delay, a drip byte, a thaw, a reset), or time_point::max().
  monotonic_clock::time_point next_deadline() const;
  // Runs the timed actions due at `now`.
  void run_due(monotonic_clock::time_point now);
  // No stream open: the connection is idle.
  bool idle() const { return streams_.empty(); }
  // A graceful GOAWAY (NO_ERROR): the idle timeout ran out.
  void shut_down();
  // Nothing left to read or write: close the connection once produce() gives nothing more.
  bool done() const;

 private:
  struct stream {
    request req;
    std::size_t header_bytes = 0;
    std::optional<http::status> error;  // 413 or 431: the request could not be taken whole
    bool stops_reading = false;
    reply rep;
    std::uint64_t sent = 0;   // body bytes handed to nghttp2
    bool drip_ready = false;  // the next drip byte is due
  };
  enum class action { respond, drip, reset };
  struct timed {
    monotonic_clock::time_point when;
    std::int32_t stream_id;
    action what;
  };
  friend struct h2_callbacks;

  void on_request(std::int32_t id, stream& s);
  void respond(std::int32_t id, stream& s);
  void submit_headers(std::int32_t id, unsigned status, const http::fields* fields, bool is_final,
                      bool with_body);
  long read_body(std::int32_t id, stream& s, std::uint8_t* buf, std::size_t length, std::uint32_t* flags);
  void schedule(monotonic_clock::duration after, std::int32_t id, action what);

  server_state& st_;
  const bool tls_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, stream> streams_;  // node-based: stream references stay valid
  std::vector<timed> timers_;
  unsigned streams_received_ = 0;
  std::optional<std::int32_t> goaway_last_;  // set once the GOAWAY of --h2-goaway-after is submitted
  bool garbage_ = false;                     // write the garbage bytes after the pending frames
  bool broken_ = false;                      // a fatal error or the garbage written: the end
  // Reused for each HEADERS frame: nghttp2 copies the name/value pairs on submit.
  std::vector<nghttp2_nv> nva_;
  std::vector<std::string> names_;
  std::string status_;
};

}  // namespace watchpost::test_target
