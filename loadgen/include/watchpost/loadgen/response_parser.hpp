#pragma once
// A lean incremental HTTP/1.1 response parser for the load hot path (the role of wrk's
// http_parser): status line, Content-Length, chunked bodies, keep-alive / Connection: close.
// It keeps no bytes of the body and allocates nothing: bytes are fed as they arrive from a
// reused buffer, and only a short carry of an unfinished header or chunk-size line is kept.
// Responses sampled for `expect:` assertions are the exception: their headers (and body, when
// a rule reads it) are copied into a response_capture.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "watchpost/probes/http_types.hpp"

namespace watchpost::loadgen {

// Where a sampled response's headers and body go. Reused across responses (clear() keeps the
// capacity), so steady-state sampling allocates little.
struct response_capture {
  probes::result response;  // headers, and the body when keep_body
  bool keep_body = false;
  std::size_t max_body = 16 * 1024 * 1024;
  bool body_too_large = false;  // the body passed max_body; what was kept is a prefix
  std::string line;             // an unfinished line (the fixed carry would truncate long headers)

  void clear(bool keep_body_too);
};

// A chunk-size line carries a size and rarely an extension token; one longer than the parser's
// line carry could not be judged the same when split across reads, so it is a protocol error.
inline constexpr std::size_t max_chunk_line_bytes = 512;

class response_parser {
 public:
  enum class state : std::uint8_t {
    status_line,
    headers,
    body_length,
    body_until_close,
    chunk_size,
    chunk_data,
    chunk_data_end,
    trailers,
    done,
    error
  };
  // How the final response's body is delimited, known once its headers are read.
  enum class framing : std::uint8_t { none, length, chunked, until_close };

  // Starts a new response. HEAD responses carry no body whatever their headers say. With a
  // capture, headers and (if asked) the body are copied into it. Interim 1xx responses are
  // skipped (at most max_interim_responses of them); 101 is an error, since no upgrade is
  // ever asked for.
  void reset(bool head_request = false, response_capture* capture = nullptr) noexcept;

  // Consumes bytes; returns how many were used (less than given once the response is done,
  // so pipelined extra bytes are left to the caller). Check done() / failed() after.
  std::size_t feed(const char* data, std::size_t size) noexcept;
  // The peer closed the connection: completes a read-until-close body, otherwise an error.
  void on_eof() noexcept;

  bool done() const noexcept { return state_ == state::done; }
  bool failed() const noexcept { return state_ == state::error; }
  int status() const noexcept { return status_; }
  // The connection can carry another request after this response.
  bool keep_alive() const noexcept { return keep_alive_; }
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  framing body_framing() const noexcept { return framing_; }

 private:
  // Handles one complete line (without CR LF) in the line-oriented states.
  void on_line(std::string_view line) noexcept;
  void on_header(std::string_view name, std::string_view value) noexcept;
  void end_of_headers() noexcept;
  void start_response() noexcept;  // per response, interim ones included
  void keep_body(const char* data, std::size_t size) noexcept;
  // The unfinished-line carry: the fixed array, or the capture's string when capturing.
  void carry(const char* data, std::size_t size) noexcept;
  std::string_view carried() const noexcept;
  void clear_carry() noexcept;

  state state_ = state::status_line;
  bool head_request_ = false;
  bool keep_alive_ = true;
  bool chunked_ = false;
  bool has_length_ = false;
  bool has_transfer_encoding_ = false;
  bool http10_ = false;
  framing framing_ = framing::none;
  int status_ = 0;
  std::uint64_t remaining_ = 0;  // body or chunk bytes still to come
  std::uint64_t body_bytes_ = 0;
  std::size_t header_bytes_ = 0;      // status line, headers and trailers
  std::size_t chunk_line_bytes_ = 0;  // the current chunk-size line, extensions included
  std::size_t interim_responses_ = 0;
  // An unfinished line split across reads. Of a longer line only this prefix is kept (flagged
  // as truncated); the dropped bytes are still checked as they pass, so the verdict on a long
  // line does not depend on how it was split.
  std::array<char, max_chunk_line_bytes> carry_{};
  std::size_t carry_size_ = 0;
  bool carry_truncated_ = false;
  bool dropped_invalid_ = false;  // a dropped byte was no field text, or a CR not at the end
  bool dropped_ends_in_cr_ = false;
  response_capture* capture_ = nullptr;
};

inline constexpr std::size_t max_response_header_bytes = 64 * 1024;
// More interim responses than this before the final one is a protocol error (each is bounded
// by the header limit, so a server cannot keep one exchange alive on 1xx alone).
inline constexpr std::size_t max_interim_responses = 8;

}  // namespace watchpost::loadgen
