#include "watchpost/loadgen/response_parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace watchpost::loadgen {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// True if the comma-separated header value contains `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// Field names are RFC 9110 tokens; field values and reason phrases may hold HTAB, SP, visible
// ASCII and obs-text, never other control bytes (NUL, bare CR). Beast checks the same.
// A table, not isalnum(): every field name of every response passes here (the locale has no say).
constexpr std::array<bool, 256> token_chars = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[static_cast<unsigned char>(c)] = t[static_cast<unsigned char>(c - 32)] = true;
  return t;
}();

bool is_token(std::string_view s) noexcept {
  for (char c : s)
    if (!token_chars[static_cast<unsigned char>(c)]) return false;
  return !s.empty();
}

bool is_field_text(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

// "name: value" with a valid name and value (headers and trailers).
bool is_field_line(std::string_view line) noexcept {
  const auto colon = line.find(':');
  return colon != std::string_view::npos && is_token(line.substr(0, colon)) &&
         is_field_text(line.substr(colon + 1));
}

bool is_body_length_field(std::string_view name) noexcept {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding");
}

// The fields that decide where the response ends; the parser reads them whole.
bool is_framing_field(std::string_view name) noexcept {
  return is_body_length_field(name) || iequals(name, "connection");
}

bool parse_decimal(std::string_view s, std::uint64_t& out) noexcept {
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);  // leading zeros add nothing
  if (s.empty() || s.size() > 18) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

std::string_view skip_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string_view take_token(std::string_view& s) noexcept {
  std::size_t n = 0;
  while (n < s.size() && is_token(s.substr(n, 1))) ++n;
  const auto token = s.substr(0, n);
  s.remove_prefix(n);
  return token;
}

// chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ), as Beast reads it:
// blanks only before a ';' or '=', never at the end of the line.
bool is_chunk_extension(std::string_view s) noexcept {
  while (!s.empty()) {
    s = skip_blanks(s);
    if (s.empty() || s.front() != ';') return false;
    s = skip_blanks(s.substr(1));
    if (take_token(s).empty()) return false;
    const auto after_name = skip_blanks(s);
    if (after_name.empty() || after_name.front() != '=') continue;
    s = skip_blanks(after_name.substr(1));
    if (!s.empty() && s.front() == '"') {
      std::size_t i = 1;
      for (; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;  // quoted-pair
        if (i >= s.size() || !is_field_text(s.substr(i, 1))) return false;
      }
      if (i >= s.size()) return false;
      s.remove_prefix(i + 1);
    } else if (take_token(s).empty()) {
      return false;
    }
  }
  return true;
}

bool parse_hex(std::string_view s, std::uint64_t& out) noexcept {
  // Chunk extensions (";name=value") follow the size.
  const auto extension = s.find_first_of("; \t");
  if (extension != std::string_view::npos && !is_chunk_extension(s.substr(extension))) return false;
  s = s.substr(0, extension);
  if (s.empty()) return false;
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);  // leading zeros add no size
  if (s.size() > 15) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  out = v;
  return true;
}

}  // namespace

void response_capture::clear(bool keep_body_too) {
  response.headers.clear();
  response.body.clear();
  response.status = 0;
  keep_body = keep_body_too;
  body_too_large = false;
  line.clear();
}

void response_parser::reset(bool head_request, response_capture* capture) noexcept {
  capture_ = capture;
  head_request_ = head_request;
  interim_responses_ = 0;
  start_response();
}

void response_parser::start_response() noexcept {
  state_ = state::status_line;
  keep_alive_ = true;
  chunked_ = false;
  has_length_ = false;
  has_transfer_encoding_ = false;
  http10_ = false;
  framing_ = framing::none;
  status_ = 0;
  remaining_ = 0;
  body_bytes_ = 0;
  header_bytes_ = 0;
  chunk_line_bytes_ = 0;
  clear_carry();
}

void response_parser::on_header(std::string_view name, std::string_view value) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (capture_) capture_->response.headers.push_back({std::string(name), std::string(value)});
  if (iequals(name, "content-length")) {
    // A comma list of one length repeated is that length (RFC 9110 8.6, and Beast).
    for (std::string_view rest = value;;) {
      const auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      std::uint64_t n = 0;
      if (!parse_decimal(skip_blanks(item), n) || (has_length_ && n != remaining_)) {
        state_ = state::error;
        return;
      }
      has_length_ = true;
      remaining_ = n;
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  } else if (iequals(name, "transfer-encoding")) {
    if (chunked_) {  // a coding after chunked: chunked must be the last one (RFC 9112 6.1), as in Beast
      state_ = state::error;
      return;
    }
    has_transfer_encoding_ = true;
    // A comma list of codings; the body is chunked only when chunked is the last one (else
    // it ends when the server closes), as RFC 9112 6.3 and Beast have it.
    // A value that is no such list (RFC 9112 6.1) leaves the framing unknowable: an error.
    std::string_view last;
    bool chunked_seen = false;
    for (std::string_view rest = value; !rest.empty();) {
      const auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      item = skip_blanks(item);
      // Not a token, or chunked a second time (a sender applies it once: RFC 9112 6.1).
      const bool chunked_again = chunked_seen && iequals(item, "chunked");
      if (!item.empty() && (!is_token(item) || chunked_again)) {
        state_ = state::error;
        return;
      }
      if (!item.empty()) last = item;
      chunked_seen = chunked_seen || iequals(item, "chunked");
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    chunked_ = iequals(last, "chunked");
  } else if (iequals(name, "connection")) {
    if (has_token(value, "close"))
      keep_alive_ = false;
    else if (has_token(value, "keep-alive"))
      keep_alive_ = true;
  }
}

void response_parser::end_of_headers() noexcept {
  if (status_ == 101 || (status_ < 200 && ++interim_responses_ > max_interim_responses)) {
    state_ = state::error;  // switching protocols unasked, or endless interim responses
    return;
  }
  if (status_ < 200) {  // interim response: the real one follows
    if (capture_) capture_->clear(capture_->keep_body);
    start_response();
    return;
  }
  if (has_transfer_encoding_ && has_length_) {
    // Request-smuggling shape: which framing the server meant is unknowable (RFC 9112 6.3).
    state_ = state::error;
    return;
  }
  // 204 and 304 responses and answers to HEAD have no body.
  if (head_request_ || status_ == 204 || status_ == 304) {
    state_ = state::done;
    return;
  }
  if (chunked_) {
    framing_ = framing::chunked;
    state_ = state::chunk_size;
  } else if (has_length_) {
    framing_ = framing::length;
    state_ = remaining_ == 0 ? state::done : state::body_length;
  } else {
    framing_ = framing::until_close;
    keep_alive_ = false;  // the body ends when the server closes
    state_ = state::body_until_close;
  }
}

void response_parser::on_line(std::string_view line) noexcept {
  // Lines end in CR LF; a bare LF is a protocol error, as in Beast (the probe client). A line
  // cut at the carry is its kept prefix: its dropped bytes were checked as they passed.
  const bool long_line = carry_truncated_ || line.size() > carry_.size();
  if (carry_truncated_ ? (dropped_invalid_ || !dropped_ends_in_cr_) : (line.empty() || line.back() != '\r')) {
    state_ = state::error;
    return;
  }
  if (!carry_truncated_) line.remove_suffix(1);
  // A long field line is judged by its first carry_.size() bytes however it arrives: its name
  // must end there, and it must not be one we read (framing), since only the prefix is kept.
  if (long_line && (state_ == state::headers || state_ == state::trailers)) {
    const auto colon = line.substr(0, carry_.size()).find(':');
    if (colon == std::string_view::npos || is_framing_field(line.substr(0, colon))) {
      state_ = state::error;
      return;
    }
  }
  switch (state_) {
    case state::status_line: {
      // "HTTP/1.1 200 OK"; the space after the code is required even without a reason (RFC 9112 4)
      if (line.size() < 13 || !line.starts_with("HTTP/1.") || (line[7] != '0' && line[7] != '1') ||
          line[8] != ' ' || !is_field_text(line.substr(12))) {
        state_ = state::error;
        return;
      }
      http10_ = line[7] == '0';
      keep_alive_ = !http10_;
      const char a = line[9], b = line[10], c = line[11];
      if (a < '1' || a > '5' || b < '0' || b > '9' || c < '0' || c > '9' || line[12] != ' ') {
        state_ = state::error;
        return;
      }
      status_ = (a - '0') * 100 + (b - '0') * 10 + (c - '0');
      if (capture_) capture_->response.status = status_;
      state_ = state::headers;
      return;
    }
    case state::headers: {
      if (line.empty()) {
        end_of_headers();
        return;
      }
      if (!is_field_line(line)) {
        state_ = state::error;
        return;
      }
      const auto colon = line.find(':');
      on_header(line.substr(0, colon), line.substr(colon + 1));
      return;
    }
    case state::chunk_size: {
      std::uint64_t n = 0;
      if (carry_truncated_ || !parse_hex(line, n)) {
        state_ = state::error;
        return;
      }
      remaining_ = n;
      state_ = n == 0 ? state::trailers : state::chunk_data;
      return;
    }
    case state::chunk_data_end:
      if (!line.empty())
        state_ = state::error;
      else
        state_ = state::chunk_size;
      return;
    case state::trailers:
      if (line.empty()) state_ = state::done;
      // Framing fields have no place in trailers (RFC 9110 6.5.1); Beast rejects them too.
      else if (!is_field_line(line) || is_body_length_field(line.substr(0, line.find(':'))))
        state_ = state::error;
      return;
    default:
      return;
  }
}

std::size_t response_parser::feed(const char* data, std::size_t size) noexcept {
  std::size_t used = 0;
  while (used < size && state_ != state::done && state_ != state::error) {
    const char* p = data + used;
    const std::size_t avail = size - used;
    switch (state_) {
      case state::body_length:
      case state::chunk_data: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, avail));
        remaining_ -= n;
        body_bytes_ += n;
        if (capture_) keep_body(p, n);
        used += n;
        if (remaining_ == 0) state_ = state_ == state::body_length ? state::done : state::chunk_data_end;
        break;
      }
      case state::body_until_close:
        if (capture_) keep_body(p, avail);
        body_bytes_ += avail;
        used += avail;
        break;
      default: {
        // Line-oriented states: find the end of the line in place; carry it over reads.
        const void* nl = std::memchr(p, '\n', avail);
        const std::size_t len = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - p) : avail;
        // Every line is bounded while it arrives, so an endless one fails at once, not at the deadline.
        const bool field_lines =
            state_ == state::status_line || state_ == state::headers || state_ == state::trailers;
        std::size_t& line_budget_used = field_lines ? header_bytes_ : chunk_line_bytes_;
        line_budget_used += len + (nl ? 1 : 0);
        if (line_budget_used > (field_lines ? max_response_header_bytes : max_chunk_line_bytes)) {
          state_ = state::error;
          return used;
        }
        if (nl && !field_lines) chunk_line_bytes_ = 0;
        if (!nl) {
          carry(p, len);
          used += len;
          break;
        }
        used += len + 1;
        if (carried().empty() && !carry_truncated_) {
          on_line(std::string_view(p, len));
        } else {
          carry(p, len);
          on_line(carried());
        }
        clear_carry();
        break;
      }
    }
  }
  return used;
}

void response_parser::keep_body(const char* data, std::size_t size) noexcept {
  if (!capture_->keep_body) return;
  std::string& body = capture_->response.body;
  const std::size_t room = capture_->max_body - std::min(capture_->max_body, body.size());
  if (size > room) capture_->body_too_large = true;
  body.append(data, std::min(size, room));
}

void response_parser::carry(const char* data, std::size_t size) noexcept {
  const std::size_t kept = capture_ ? size : std::min(size, carry_.size() - carry_size_);
  for (std::size_t i = kept; i < size; ++i) {  // the bytes the fixed carry drops
    const auto u = static_cast<unsigned char>(data[i]);
    if (dropped_ends_in_cr_ || (u < 0x20 && u != '\t' && u != '\r') || u == 0x7f) dropped_invalid_ = true;
    dropped_ends_in_cr_ = u == '\r';
  }
  if (capture_) {
    // Bounded like the header block, so a sampled response cannot grow it without limit.
    std::string& line = capture_->line;
    const std::size_t room = max_response_header_bytes - std::min(max_response_header_bytes, line.size());
    if (size > room) carry_truncated_ = true;
    line.append(data, std::min(size, room));
    return;
  }
  const std::size_t room = carry_.size() - carry_size_;
  if (size > room) carry_truncated_ = true;
  std::memcpy(carry_.data() + carry_size_, data, std::min(size, room));
  carry_size_ += std::min(size, room);
}

std::string_view response_parser::carried() const noexcept {
  if (capture_) return capture_->line;
  return {carry_.data(), carry_size_};
}

void response_parser::clear_carry() noexcept {
  if (capture_) capture_->line.clear();
  carry_size_ = 0;
  carry_truncated_ = false;
  dropped_invalid_ = false;
  dropped_ends_in_cr_ = false;
}

void response_parser::on_eof() noexcept {
  if (state_ == state::body_until_close)
    state_ = state::done;
  else if (state_ != state::done)
    state_ = state::error;
}

}  // namespace watchpost::loadgen
