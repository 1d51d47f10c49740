#include "faults.hpp"

#include <algorithm>

namespace watchpost::test_target {

namespace {

// Endless units are repeated to about this size, so each write moves a useful amount.
constexpr std::size_t endless_write_size = 16 * 1024;

std::string_view interim_reason(unsigned code) {
  switch (code) {
    case 100:
      return "Continue";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    default:
      return "Informational";
  }
}

reply raw_reply(std::string bytes, raw_end after, std::string_view endless_unit = {}) {
  reply r;
  r.kind = reply_kind::raw;
  r.raw = std::move(bytes);
  r.after = after;
  if (!endless_unit.empty()) {
    const std::size_t units = std::max<std::size_t>(1, endless_write_size / endless_unit.size());
    r.endless.reserve(units * endless_unit.size());
    for (std::size_t i = 0; i < units; ++i) r.endless += endless_unit;
  }
  return r;
}

std::string pattern_bytes(std::size_t n) { return std::string(pattern_slice(0, n)); }

}  // namespace

std::string interim_responses(unsigned code, unsigned count) {
  std::string one = "HTTP/1.1 " + std::to_string(code) + " " + std::string(interim_reason(code)) + "\r\n";
  if (auto link = interim_link(code); !link.empty()) (one += "Link: ") += std::string(link) + "\r\n";
  one += "\r\n";
  std::string all;
  for (unsigned i = 0; i < count; ++i) all += one;
  return all;
}

std::string_view interim_link(unsigned code) { return code == 103 ? "</style.css>; rel=preload" : ""; }

reply switching_reply() {
  return raw_reply("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                   raw_end::hold);
}

std::optional<reply> hostile_reply(std::string_view name) {
  using namespace std::string_literals;
  constexpr std::string_view chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  if (name == "chunk-ext-endless")
    return raw_reply(std::string(chunked_head) + "1;", raw_end::endless, "a=b;");
  if (name == "chunk-huge")
    return raw_reply(std::string(chunked_head) + "ffffffffffffffffffff\r\nabcdef", raw_end::close);
  if (name == "cl-te") {
    return raw_reply(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        raw_end::close);
  }
  if (name == "two-cl") {
    return raw_reply("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
                     raw_end::close);
  }
  if (name == "lf-only") {
    return raw_reply(
        "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 3\nConnection: close\n\nok\n",
        raw_end::close);
  }
  if (name == "nul-header") {
    return raw_reply("HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"s,
                     raw_end::close);
  }
  if (name == "no-reason") {
    return raw_reply("HTTP/1.1 200\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n", raw_end::close);
  }
  if (name == "early-close") return raw_reply("HTTP/1.1 200 OK\r\nContent-Le", raw_end::close);
  if (name == "close-delimited") {
    return raw_reply("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + pattern_bytes(1000), raw_end::close);
  }
  if (name == "tls-truncation") {
    return raw_reply("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + pattern_bytes(10),
                     raw_end::truncate);
  }
  if (name == "endless-body") {
    return raw_reply("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", raw_end::endless,
                     pattern_slice(0, 26));
  }
  if (name == "endless-headers") {
    return raw_reply("HTTP/1.1 200 OK\r\n", raw_end::endless, "X-Pad: " + std::string(100, 'a') + "\r\n");
  }
  if (name == "endless-trailers")
    return raw_reply(std::string(chunked_head) + "0\r\n", raw_end::endless, "X-T: aaaa\r\n");
  return std::nullopt;
}

std::string hostile_name_list() {
  std::string list;
  for (std::string_view name : hostile_names) {
    if (!list.empty()) list += ", ";
    list += name;
  }
  return list;
}

}  // namespace watchpost::test_target
