#include "h2_misbehaver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace watchpost::probes_test {

namespace {

struct connection {
  h2_fault fault;
  nghttp2_session* session = nullptr;
  int fd = -1;
  std::size_t body_left = 1 << 20;
  std::string header_value = std::string(1024, 'x');
  std::string header_names[32];
};

ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length, std::uint32_t* flags,
                  nghttp2_data_source*, void* user_data) {
  auto& c = *static_cast<connection*>(user_data);
  const std::size_t n = std::min(length, c.body_left);
  std::memset(buf, 'b', n);
  c.body_left -= n;
  if (c.body_left == 0) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

nghttp2_nv field(const std::string& name, const std::string& value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// Answers a complete request with the connection's fault.
int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  auto& c = *static_cast<connection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
  const std::int32_t id = frame->hd.stream_id;
  static const std::string status = ":status", ok = "200";
  switch (c.fault) {
    case h2_fault::refuse_stream:
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
      break;
    case h2_fault::goaway:
      nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_ENHANCE_YOUR_CALM, nullptr, 0);
      break;
    case h2_fault::huge_headers: {
      std::vector<nghttp2_nv> nva{field(status, ok)};
      for (int i = 0; i < 32; ++i) {
        c.header_names[i] = "x-filler-" + std::to_string(i);
        nva.push_back(field(c.header_names[i], c.header_value));
      }
      nghttp2_submit_response(session, id, nva.data(), nva.size(), nullptr);
      break;
    }
    case h2_fault::huge_body: {
      const nghttp2_nv nva[] = {field(status, ok)};
      nghttp2_data_provider provider{};
      provider.read_callback = read_body;
      nghttp2_submit_response(session, id, nva, 1, &provider);
      break;
    }
    case h2_fault::garbage: {
      static constexpr char junk[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      (void)!send(c.fd, junk, sizeof junk - 1, MSG_NOSIGNAL);
      break;
    }
    case h2_fault::silence:
      break;
  }
  return 0;
}

bool flush(connection& c) {
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(c.session, &data);
    if (n <= 0) return n == 0;
    if (send(c.fd, data, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return false;
  }
}

}  // namespace

h2_misbehaver::h2_misbehaver(h2_fault fault) : fault_(fault) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listener_, 4);
  socklen_t len = sizeof addr;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

h2_misbehaver::~h2_misbehaver() {
  shutdown(listener_, SHUT_RDWR);
  thread_.join();
  close(listener_);
}

void h2_misbehaver::serve() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  pollfd p{listener_, POLLIN, 0};
  if (poll(&p, 1, 10'000) <= 0 || !(p.revents & POLLIN)) return;
  connection c;
  c.fault = fault_;
  c.fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c.fd < 0) return;
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_session_server_new(&c.session, callbacks, &c);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, nullptr, 0);
  std::uint8_t buf[16384];
  while (std::chrono::steady_clock::now() < deadline && flush(c)) {
    pollfd q{c.fd, POLLIN, 0};
    if (poll(&q, 1, 100) <= 0) continue;
    const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n <= 0 || nghttp2_session_mem_recv(c.session, buf, static_cast<std::size_t>(n)) < 0) break;
  }
  nghttp2_session_del(c.session);
  close(c.fd);
}

}  // namespace watchpost::probes_test
