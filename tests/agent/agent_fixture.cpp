#include "agent_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <variant>

#include "watchpost/probes/http_client.hpp"

namespace watchpost::agent_test {

namespace {
int bind_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
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

std::string header_value(const std::string& head, const std::string& name) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    const auto colon = head.find(':', pos);
    const auto eol = head.find("\r\n", pos);
    if (colon == std::string::npos || colon > eol) continue;
    std::string key = head.substr(pos, colon - pos);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key == name) {
      std::string v = head.substr(colon + 1, eol - colon - 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      return v;
    }
  }
  return {};
}
}  // namespace

std::uint16_t reserve_port() {
  const int fd = bind_loopback(0);
  const auto port = local_port(fd);
  ::close(fd);
  return port;
}

webhook_receiver::webhook_receiver(std::uint16_t port) : listen_fd_(bind_loopback(port)), port_(local_port(listen_fd_)) {
  thread_ = std::thread([this] { serve(); });
}

webhook_receiver::~webhook_receiver() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<received_webhook> webhook_receiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void webhook_receiver::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string data;
    std::size_t head_end = std::string::npos, need = 0;
    char buf[8192];
    for (int rounds = 0; rounds < 200; ++rounds) {  // bounded: 200 x 50 ms
      pollfd c{fd, POLLIN, 0};
      if (::poll(&c, 1, 50) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
        const std::string length = header_value(data.substr(0, head_end + 2), "content-length");
        need = head_end + 4 + (length.empty() ? 0 : std::stoul(length));
      }
      if (head_end != std::string::npos && data.size() >= need) break;
    }
    if (head_end != std::string::npos && data.size() >= need) {
      const std::string head = data.substr(0, head_end + 2);
      std::lock_guard lock(mutex_);
      received_.push_back({header_value(head, "x-watchpost-event-id"), header_value(head, "x-watchpost-signature"),
                           data.substr(head_end + 4, need - head_end - 4)});
    }
    static constexpr char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    [[maybe_unused]] auto written = ::write(fd, reply, sizeof reply - 1);
    ::close(fd);
  }
}

running_agent::running_agent(const std::string& config_path)
    : process_(testing::watchpost_binary_path(), {"agent", config_path}) {
  port_ = testing::read_agent_port(process_);
}

std::string running_agent::get(const std::string& path) const {
  return http_get("http://127.0.0.1:" + std::to_string(port_) + path);
}

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("watchpost-agent-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string http_get(const std::string& url) {
  probes::request req;
  auto parsed = probes::parse_url(url);
  if (!std::holds_alternative<probes::url>(parsed)) return {};
  req.target = std::get<probes::url>(parsed);
  probes::client_options options;
  options.total_timeout = std::chrono::seconds(5);
  const auto res = probes::fetch(req, options);
  return res.ok() ? res.body : std::string{};
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

std::string require_installed(const std::string& binary, const std::string& package) {
  if (!std::filesystem::exists(binary))
    FAIL(binary << " is missing: apt-get install " << package << " (or scripts/install-deps.sh --test)");
  return binary;
}

void make_test_certificate(const std::string& dir) {
  require_installed("/usr/bin/openssl", "openssl");
  const std::string command =
      "/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem > /dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
}

}  // namespace watchpost::agent_test
