#pragma once
// A one-connection HTTP/2 server (nghttp2's server session over a blocking loopback socket, on a
// thread of its own) that answers every request with one fault, for what real peers will not do
// on demand: RST_STREAM, GOAWAY, oversized headers or body, garbage instead of frames, silence.
#include <cstdint>
#include <thread>

namespace watchpost::probes_test {

enum class h2_fault {
  refuse_stream,  // RST_STREAM REFUSED_STREAM
  goaway,         // GOAWAY ENHANCE_YOUR_CALM, last stream 0
  huge_headers,   // 200 with 32 fields of 1 KiB (nghttp2 sends at most 64 KiB of header block)
  huge_body,      // 200 with a 1 MiB body
  garbage,        // bytes that are not HTTP/2 frames
  silence,        // reads the request, never answers
};

class h2_misbehaver {
 public:
  explicit h2_misbehaver(h2_fault fault);
  ~h2_misbehaver();  // closes the listener and joins the thread (at most ~10 s: every wait is bounded)
  h2_misbehaver(const h2_misbehaver&) = delete;
  h2_misbehaver& operator=(const h2_misbehaver&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  void serve();
  h2_fault fault_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace watchpost::probes_test
