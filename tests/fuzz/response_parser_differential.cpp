// The same bytes to loadgen::response_parser and to Beast's response_parser<string_body>
// (header and body limits 64 KiB, above any input, so a huge Content-Length is not reserved;
// eager): both must agree on the final status, the body's framing (length / chunked / until close / none),
// the body length and the bytes consumed, or both must reject.
//
// Where the two differ by design the harness models our rule rather than ignoring the case:
// - 1xx: Beast returns each interim response as a message; ours skips them. The harness feeds
//   Beast again after each interim response, as the load engine's caller would. Past
//   loadgen::max_interim_responses of them ours rejects (a server cannot stall on 1xx alone).
// - 101 Switching Protocols (never asked for by the load engine): ours may reject where Beast
//   completes; the comparison accepts either outcome from ours, but ours must still finish.
// - Status codes outside 100..599 (RFC 9110 section 15: invalid) are a protocol error for ours;
//   Beast takes any three digits.
// - Beast rejects a Connection (or Upgrade) value that is not a token list (error::bad_value); ours
//   reads only the close / keep-alive tokens from it and ignores the rest.
// - A line over max_chunk_line_bytes (ours keeps only that prefix of it, allocation-free) is a
//   protocol error for ours when it is a chunk-size line, a framing field or has a longer name.
// - A Transfer-Encoding value that is no token list is a protocol error for ours; Beast reads
//   the list up to the first bad byte (so "chunked" followed by garbage is chunked).
// - Transfer-Encoding with Content-Length is a protocol error for ours (RFC 9112 6.3: "ought
//   to be handled as an error"); Beast rejects it only when the coding is chunked.
// - chunked before the last coding of a Transfer-Encoding list (applied twice, or not last) is a
//   protocol error for ours; Beast reads such a response until close.
// - obs-fold (a field line starting with SP or HTAB, obsolete per RFC 9112 5.2) is a protocol
//   error for ours, which reads each field from its own line; Beast joins it to the field above.
// - Inputs are at most 64 KiB (max_len below that), so both header limits are never reached.
// Ours must also give the same verdict fed in pieces as at once (its line carry is exercised).
#include <algorithm>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "watchpost/loadgen/response_parser.hpp"

namespace {

namespace http = boost::beast::http;
using framing = watchpost::loadgen::response_parser::framing;

struct verdict {
  bool accepted = false;
  int status = 0;
  framing body_framing = framing::none;
  std::uint64_t body_bytes = 0;
  std::size_t consumed = 0;
  std::size_t interim = 0;
  boost::beast::error_code error;  // why Beast rejected
};

// Feeds `wire` in pieces of `step` bytes, as reads would deliver it.
verdict ours(std::string_view wire, bool head, std::size_t step) {
  watchpost::loadgen::response_parser p;
  p.reset(head);
  verdict v;
  while (v.consumed < wire.size() && !p.done() && !p.failed()) {
    const std::size_t n = std::min(step, wire.size() - v.consumed);
    const std::size_t used = p.feed(wire.data() + v.consumed, n);
    v.consumed += used;
    if (used < n) break;  // the response ended inside this piece
  }
  if (!p.done() && !p.failed()) p.on_eof();
  if (!p.done()) return v;
  v.accepted = true;
  v.status = p.status();
  v.body_framing = p.body_framing();
  v.body_bytes = p.body_bytes();
  return v;
}

verdict beast(std::string_view wire, bool head) {
  verdict v;
  for (;;) {
    http::response_parser<http::string_body> p;
    p.header_limit(64 * 1024);
    p.body_limit(64 * 1024);
    p.eager(true);
    p.skip(head);
    boost::beast::error_code ec;
    const std::size_t start = v.consumed;
    while (!p.is_done() && v.consumed < wire.size()) {
      const std::size_t n =
          p.put(boost::asio::buffer(wire.data() + v.consumed, wire.size() - v.consumed), ec);
      v.consumed += n;
      if (ec == http::error::need_more) break;  // everything there was given: the rest is missing
      if (ec) {
        v.error = ec;
        return v;
      }
    }
    if (v.consumed == start) return v;  // no byte of a response: nothing to accept
    if (!p.is_done()) {
      p.put_eof(ec);
      v.error = ec;
      if (ec || !p.is_done()) return v;
    }
    const int status = p.get().result_int();
    if (status >= 100 && status < 200 && status != 101) {
      ++v.interim;
      continue;
    }
    v.accepted = true;
    v.status = status;
    const bool no_body = head || status < 200 || status == 204 || status == 304;
    v.body_framing = no_body              ? framing::none
                     : p.chunked()        ? framing::chunked
                     : p.content_length() ? framing::length
                                          : framing::until_close;
    v.body_bytes = p.get().body().size();
    return v;
  }
}

// ASCII case-insensitive equality (Beast 1.81's iequals reads one byte past equal-length views).
bool same_letters(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool has_line_over_carry(std::string_view wire) {
  for (std::size_t start = 0; start < wire.size();) {
    const std::size_t end = std::min(wire.find('\n', start), wire.size());
    if (end - start > watchpost::loadgen::max_chunk_line_bytes) return true;
    start = end + 1;
  }
  return false;
}

// True if a line of `wire` starts with `name` (with its colon) and `test` holds for its value.
template <typename Test>
bool any_field(std::string_view wire, std::string_view name, Test test) {
  for (std::size_t start = 0; start < wire.size();) {
    const std::size_t end = std::min(wire.find('\n', start), wire.size());
    const std::string_view line = wire.substr(start, end - start);
    start = end + 1;
    if (line.size() >= name.size() && same_letters(line.substr(0, name.size()), name) &&
        test(line.substr(name.size())))
      return true;
  }
  return false;
}

bool present(std::string_view) { return true; }

// A value that is not a comma list of tokens.
bool is_malformed_coding_list(std::string_view value) {
  constexpr std::string_view punctuation = "!#$%&'*+-.^_`|~";
  bool in_token = false, after_token = false;  // blanks may end a token, only a comma a list item
  for (char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c)) || punctuation.find(c) != std::string_view::npos) {
      if (after_token) return true;
      in_token = true;
    } else if (c == ',') {
      in_token = after_token = false;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      after_token = after_token || in_token;
    } else {
      return true;
    }
  }
  return false;
}

// A coding list with chunked before its end (RFC 9112 6.1: chunked is applied once, last).
bool has_chunked_before_last(std::string_view value) {
  bool chunked_seen = false;
  for (std::size_t start = 0; start <= value.size();) {
    const std::size_t end = std::min(value.find(',', start), value.size());
    std::string_view item = value.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t' || item.back() == '\r'))
      item.remove_suffix(1);
    if (!item.empty()) {
      if (chunked_seen) return true;
      chunked_seen = same_letters(item, "chunked");
    }
    start = end + 1;
  }
  return false;
}

bool has_folded_line(std::string_view wire) {
  return wire.find("\n ") != std::string_view::npos || wire.find("\n\t") != std::string_view::npos;
}

bool same(const verdict& a, const verdict& b) {
  return a.accepted == b.accepted &&
         (!a.accepted || (a.status == b.status && a.body_framing == b.body_framing &&
                          a.body_bytes == b.body_bytes && a.consumed == b.consumed));
}

const char* name(framing f) {
  switch (f) {
    case framing::none:
      return "none";
    case framing::length:
      return "length";
    case framing::chunked:
      return "chunked";
    case framing::until_close:
      return "until_close";
  }
  return "?";
}

void print(const char* who, const verdict& v) {
  std::fprintf(stderr, "%s: %s status=%d framing=%s body=%llu consumed=%zu %s\n", who,
               v.accepted ? "accepted" : "rejected", v.status, name(v.body_framing),
               static_cast<unsigned long long>(v.body_bytes), v.consumed, v.error.message().c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 60 * 1024) return 0;
  const bool head = data[0] == 'H';  // a HEAD request: no body whatever the headers say
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  const verdict a = ours(wire, head, wire.size());
  const verdict split = ours(wire, head, 1 + size % 700);
  if (!same(a, split)) {
    print("ours whole", a);
    print("ours split", split);
    std::abort();
  }
  const verdict b = beast(wire, head);
  const bool by_design =
      (b.accepted && !a.accepted &&
       (b.status == 101 || b.status < 100 || b.status > 599 || has_line_over_carry(wire) ||
        any_field(wire, "transfer-encoding:", is_malformed_coding_list) ||
        any_field(wire, "transfer-encoding:", has_chunked_before_last) ||
        (any_field(wire, "transfer-encoding:", present) && any_field(wire, "content-length:", present)) ||
        has_folded_line(wire) || b.interim > watchpost::loadgen::max_interim_responses)) ||
      (a.accepted && b.error == http::error::bad_value);
  if (same(a, b) || by_design) return 0;
  print("ours ", a);
  print("beast", b);
  std::abort();
}
