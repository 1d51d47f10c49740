#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace watchpost::agent_test {

using steady = std::chrono::steady_clock;

raw_socket::raw_socket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (fd_ < 0) throw std::runtime_error("socket() failed: errno " + std::to_string(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed: errno " +
                             std::to_string(error));
  }
}

raw_socket::~raw_socket() {
  if (fd_ >= 0) ::close(fd_);
}

raw_socket::raw_socket(raw_socket&& other) noexcept : fd_(other.fd_), pending_(std::move(other.pending_)) {
  other.fd_ = -1;
}

bool raw_socket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string raw_socket::read_until_closed(std::chrono::milliseconds timeout, bool* closed) {
  const auto deadline = steady::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  if (closed) *closed = false;
  char buf[16384];
  while (steady::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      if (closed) *closed = true;  // EOF or reset: either way the server ended it
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string raw_socket::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  char buf[16384];
  while (true) {
    const auto head_end = pending_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      const auto at = pending_.find("Content-Length: ");
      if (at != std::string::npos && at < head_end) length = std::stoul(pending_.substr(at + 16));
      if (pending_.size() >= head_end + 4 + length) {
        std::string response = pending_.substr(0, head_end + 4 + length);
        pending_.erase(0, response.size());
        return response;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return {};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return {};
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string raw_get(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  try {
    raw_socket s(port);
    if (!s.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) return {};
    return s.read_response(timeout);
  } catch (const std::runtime_error&) {
    return {};
  }
}

std::string body_of(const std::string& response) {
  const auto head_end = response.find("\r\n\r\n");
  return head_end == std::string::npos ? std::string{} : response.substr(head_end + 4);
}

std::uint64_t raise_own_descriptor_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

process_usage usage_of(pid_t pid) {
  process_usage usage;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) usage.rss_kb = std::stol(line.substr(6));
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i == 14 || i == 15) usage.cpu_ticks += std::stol(field);
  return usage;
}

logged_agent::logged_agent(const std::string& config_path, const std::string& log_path, int nofile)
    : process_("/bin/sh",
               {"-c", (nofile > 0 ? "ulimit -n " + std::to_string(nofile) + " && " : std::string{}) +
                          "exec '" + testing::watchpost_binary_path() + "' agent '" + config_path + "' 2>'" +
                          log_path + "'"}) {
  port_ = testing::read_agent_port(process_);
}

double metric_value(const std::string& metrics_text, const std::string& series) {
  std::size_t at = 0;
  while ((at = metrics_text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || metrics_text[at - 1] == '\n')
      return std::stod(metrics_text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

}  // namespace watchpost::agent_test
