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

class response_parser {
 public:
  enum class state : std::uint8_t { status_line, headers, body_length, body_until_close,
                                    chunk_size, chunk_data, chunk_data_end, trailers, done, error };
  // How the final response's body is delimited, known once its headers are read.
  enum class framing : std::uint8_t { none, length, chunked, until_close };

  // Starts a new response. HEAD responses carry no body whatever their headers say. With a
  // capture, headers and (if asked) the body are copied into it.
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
  bool http10_ = false;
  framing framing_ = framing::none;
  int status_ = 0;
  std::uint64_t remaining_ = 0;  // body or chunk bytes still to come
  std::uint64_t body_bytes_ = 0;
  std::size_t header_bytes_ = 0;
  // An unfinished line split across reads. Lines longer than this are only relevant if they
  // are headers we read (short); longer ones are skipped, flagged as truncated.
  std::array<char, 512> carry_{};
  std::size_t carry_size_ = 0;
  bool carry_truncated_ = false;
  response_capture* capture_ = nullptr;
};

inline constexpr std::size_t max_response_header_bytes = 64 * 1024;

}  // namespace watchpost::loadgen
