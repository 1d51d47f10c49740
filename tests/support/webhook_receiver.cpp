#include "webhook_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace watchpost::testing {

namespace {

using clock = std::chrono::steady_clock;

int bind_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  int one = 1;
  // Coming back up on the same port must work while old connections sit in TIME_WAIT.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Request line and header fields of `head` (without the blank line) into `out`.
void parse_head(const std::string& head, received_webhook& out) {
  std::size_t eol = head.find("\r\n");
  const std::string line = head.substr(0, eol);
  const auto sp1 = line.find(' '), sp2 = line.rfind(' ');
  out.method = line.substr(0, sp1);
  if (sp1 != std::string::npos && sp2 > sp1) out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (eol != std::string::npos) {
    const std::size_t start = eol + 2;
    eol = head.find("\r\n", start);
    const std::string field = head.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    const auto colon = field.find(':');
    if (colon == std::string::npos) continue;
    std::string value = field.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    out.headers.emplace_back(lower(field.substr(0, colon)), value);
  }
  out.event_id = out.header("x-watchpost-event-id");
  out.timestamp = out.header("x-watchpost-timestamp");
  out.signature = out.header("x-watchpost-signature");
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

std::uint16_t reserve_port() {
  const int fd = bind_loopback(0);
  const auto port = local_port(fd);
  ::close(fd);
  return port;
}

std::string received_webhook::header(std::string_view name) const {
  const std::string wanted = lower(std::string(name));
  for (const auto& [key, value] : headers)
    if (key == wanted) return value;
  return {};
}

std::string expected_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  const std::string text = std::string(timestamp) + "." + std::string(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                 reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, sizeof mac, &length))
    throw std::runtime_error("EVP_Q_mac failed");
  std::string hex = "sha256=";
  for (std::size_t i = 0; i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", mac[i]);
    hex += byte;
  }
  return hex;
}

webhook_receiver::webhook_receiver(std::uint16_t port) : listen_fd_(bind_loopback(port)) {
  port_ = local_port(listen_fd_);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

webhook_receiver::~webhook_receiver() {
  stop_ = true;
  accept_thread_.join();
  for (auto& w : workers_) w.thread.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (pending_fd_ >= 0) ::close(pending_fd_);
}

std::string webhook_receiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<received_webhook> webhook_receiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::size_t webhook_receiver::count() const {
  std::lock_guard lock(mutex_);
  return received_.size();
}

bool webhook_receiver::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
}

void webhook_receiver::fail_next(int n, int status, const std::string& retry_after) {
  std::lock_guard lock(mutex_);
  fail_next_left_ = n;
  fail_next_status_ = status;
  fail_next_retry_after_ = retry_after;
}

void webhook_receiver::fail_for(std::chrono::milliseconds duration, int status,
                                const std::string& retry_after) {
  std::lock_guard lock(mutex_);
  fail_until_ = clock::now() + duration;
  fail_for_status_ = status;
  fail_for_retry_after_ = retry_after;
}

void webhook_receiver::answer_always(int status) {
  std::lock_guard lock(mutex_);
  always_status_ = status;
}

void webhook_receiver::delay_answers(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  delay_ = delay;
}

void webhook_receiver::reset() {
  std::lock_guard lock(mutex_);
  fail_next_left_ = 0;
  fail_until_ = {};
  always_status_ = 200;
  delay_ = std::chrono::milliseconds{0};
}

void webhook_receiver::go_down() {
  std::unique_lock lock(mutex_);
  want_down_ = true;
  if (!listen_changed_.wait_for(lock, std::chrono::seconds(5),
                                [&] { return listen_fd_ < 0 && pending_fd_ < 0; }))
    throw std::runtime_error("webhook receiver: the accept thread did not close the port");
}

void webhook_receiver::come_up() {
  const int fd = bind_loopback(port_);  // throws when the port was taken meanwhile
  std::unique_lock lock(mutex_);
  want_down_ = false;
  if (listen_fd_ >= 0 || pending_fd_ >= 0) {
    ::close(fd);  // already up
    return;
  }
  pending_fd_ = fd;
  if (!listen_changed_.wait_for(lock, std::chrono::seconds(5), [&] { return pending_fd_ < 0; }))
    throw std::runtime_error("webhook receiver: the accept thread did not take the port back");
}

bool webhook_receiver::is_up() const {
  std::lock_guard lock(mutex_);
  return listen_fd_ >= 0;
}

webhook_receiver::answer webhook_receiver::next_answer() {
  std::lock_guard lock(mutex_);
  answer a;
  a.delay = delay_;
  if (fail_next_left_ > 0) {
    --fail_next_left_;
    a.status = fail_next_status_;
    a.retry_after = fail_next_retry_after_;
  } else if (clock::now() < fail_until_) {
    a.status = fail_for_status_;
    a.retry_after = fail_for_retry_after_;
  } else {
    a.status = always_status_;
  }
  return a;
}

void webhook_receiver::record(received_webhook request) {
  std::lock_guard lock(mutex_);
  received_.push_back(std::move(request));
  arrived_.notify_all();
}

void webhook_receiver::accept_loop() {
  while (!stop_) {
    int fd = -1;
    {
      std::lock_guard lock(mutex_);
      if (want_down_ && listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
      }
      if (pending_fd_ >= 0) std::swap(listen_fd_, pending_fd_);
      fd = listen_fd_;
      listen_changed_.notify_all();
    }
    // Finished connection threads are joined as we go: a long test opens hundreds.
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (!*it->done) {
        ++it;
        continue;
      }
      it->thread.join();
      it = workers_.erase(it);
    }
    if (fd < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int conn = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({std::thread([this, conn, done] {
                          serve_connection(conn);
                          *done = true;
                        }),
                        done});
  }
}

void webhook_receiver::serve_connection(int fd) {
  std::string data;
  std::size_t head_end = std::string::npos, need = 0;
  char buf[8192];
  const auto read_deadline = clock::now() + std::chrono::seconds(10);  // bounded
  while (!stop_ && clock::now() < read_deadline) {
    pollfd c{fd, POLLIN, 0};
    if (::poll(&c, 1, 50) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      received_webhook probe;
      parse_head(data.substr(0, head_end), probe);
      const std::string length = probe.header("content-length");
      // Bounded, and garbage reads as 0: the receiver must not throw on a hostile request.
      need = head_end + 4 + std::min<std::size_t>(std::strtoull(length.c_str(), nullptr, 10), 16u << 20);
    }
    if (head_end != std::string::npos && data.size() >= need) break;
  }
  if (head_end == std::string::npos || data.size() < need) {
    ::close(fd);  // incomplete: not a request, no answer
    return;
  }
  received_webhook request;
  parse_head(data.substr(0, head_end), request);
  request.body = data.substr(head_end + 4, need - head_end - 4);
  request.arrived = clock::now();
  const answer a = next_answer();
  request.answered = a.status;
  const auto answer_at = request.arrived + a.delay;
  record(std::move(request));
  while (!stop_ && clock::now() < answer_at) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::string reply = "HTTP/1.1 " + std::to_string(a.status) + " " + reason_phrase(a.status) +
                      "\r\nContent-Length: 0\r\nConnection: close\r\n";
  if (!a.retry_after.empty()) reply += "Retry-After: " + a.retry_after + "\r\n";
  reply += "\r\n";
  // MSG_NOSIGNAL: a client that gave up on a slow answer must not SIGPIPE the test.
  [[maybe_unused]] const auto written = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
  ::close(fd);
}

}  // namespace watchpost::testing
