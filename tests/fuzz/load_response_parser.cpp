// loadgen::response_parser fed the same bytes in random splits, with and without a capture.
// Invariants: feed() never uses more than it is given and stops early only on a finished
// response; done and failed are terminal; after on_eof() the response is finished; the body
// count never exceeds the input and a capture holds exactly the body's (bounded) prefix; and
// the split does not change the outcome of the same bytes fed at once.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "watchpost/loadgen/response_parser.hpp"

namespace {

using watchpost::loadgen::response_capture;
using watchpost::loadgen::response_parser;

struct outcome {
  bool done = false;
  int status = 0;
  std::uint64_t body_bytes = 0;
  std::size_t used = 0;
  response_parser::framing framing = response_parser::framing::none;
  bool operator==(const outcome&) const = default;
};

void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

// Feeds `wire` in pieces whose sizes come from `next_split`, then signals EOF if unfinished.
template <class Split>
outcome run(response_parser& p, const std::string& wire, Split&& next_split) {
  outcome out;
  while (out.used < wire.size() && !p.done() && !p.failed()) {
    const std::size_t n = std::min(next_split(), wire.size() - out.used);
    const std::size_t used = p.feed(wire.data() + out.used, n);
    require(used <= n, "feed() used more than it was given");
    require(used == n || p.done() || p.failed(), "feed() stopped early on an unfinished response");
    out.used += used;
  }
  if (p.done() || p.failed()) {
    const bool was_done = p.done();
    require(p.feed(wire.data(), wire.size()) == 0 && p.done() == was_done, "done/failed is not terminal");
  } else {
    p.on_eof();
    require(p.done() || p.failed(), "on_eof() left the response unfinished");
    require(!p.done() || !p.keep_alive(), "a body read until close kept the connection alive");
  }
  require(p.body_bytes() <= wire.size(), "more body bytes than input bytes");
  out.done = p.done();
  // How far a rejected response was read depends on where the split fell (a line past its bound
  // fails when the bound is crossed, inside whichever piece that is); only the verdict counts.
  if (!out.done) out.used = 0;
  if (out.done) {
    require(p.status() >= 100 && p.status() <= 599, "status out of range");
    out.status = p.status();
    out.body_bytes = p.body_bytes();
    out.framing = p.body_framing();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Six bytes of settings (flags, capture limit, split seed), then the bytes from the server.
  if (size < 6) return 0;
  const bool head = data[0] & 1, capturing = data[0] & 2, keep_body = data[0] & 4;
  const std::size_t max_body = data[1] % 65;
  std::uint32_t seed = data[2] | data[3] << 8 | data[4] << 16 | static_cast<std::uint32_t>(data[5]) << 24;
  const std::string wire(reinterpret_cast<const char*>(data) + 6, size - 6);

  response_capture capture;
  capture.clear(keep_body);
  capture.max_body = max_body;
  response_parser split;
  split.reset(head, capturing ? &capture : nullptr);
  const outcome in_pieces = run(split, wire, [&] {
    seed = seed * 1103515245u + 12345u;  // split sizes 1..64, mostly small
    return std::size_t{1} + ((seed >> 16) % ((seed >> 8) % 2 ? 64 : 4));
  });
  if (capturing && keep_body && split.done()) {
    require(capture.response.body.size() == std::min<std::uint64_t>(split.body_bytes(), max_body),
            "the capture does not hold the body's prefix");
    require(capture.body_too_large == (split.body_bytes() > max_body), "body_too_large is wrong");
  }

  response_parser whole;
  whole.reset(head);
  const outcome at_once = run(whole, wire, [&] { return wire.size(); });
  require(in_pieces == at_once, "feeding in pieces changed the outcome");
  return 0;
}
