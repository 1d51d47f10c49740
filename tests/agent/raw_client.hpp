#pragma once
// Blocking loopback TCP for tests that misbehave as HTTP clients (oversized headers, bodies on
// GET, idle sockets, endless chunk extensions), and /proc readings of the agent under test.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "process.hpp"

namespace watchpost::agent_test {

// An open client socket, closed on destruction.
class raw_socket {
 public:
  explicit raw_socket(std::uint16_t port);  // connects to 127.0.0.1:port; throws on failure
  ~raw_socket();
  raw_socket(raw_socket&& other) noexcept;
  raw_socket& operator=(raw_socket&&) = delete;
  int fd() const { return fd_; }
  bool send(std::string_view bytes);  // all of it; false on any error (no SIGPIPE)
  // Reads until the peer closes or `timeout` passes.
  std::string read_until_closed(std::chrono::milliseconds timeout, bool* closed = nullptr);
  // Reads one response whose body is Content-Length long (keep-alive); "" on timeout.
  std::string read_response(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string pending_;
};

// GET path on a fresh connection with Connection: close: the whole raw response, "" on failure.
std::string raw_get(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout);
std::string body_of(const std::string& response);  // after the blank line

// Raises this process's RLIMIT_NOFILE soft limit to the hard limit; returns the soft limit.
std::uint64_t raise_own_descriptor_limit();

struct process_usage {
  long rss_kb = 0;     // VmRSS
  long cpu_ticks = 0;  // utime + stime, in clock ticks
};
process_usage usage_of(pid_t pid);

// `watchpost agent config` run by /bin/sh with `ulimit -n` set first when nofile > 0, its stderr
// (the log) going to log_path. READY is parsed.
class logged_agent {
 public:
  logged_agent(const std::string& config_path, const std::string& log_path, int nofile = 0);
  std::uint16_t port() const { return port_; }
  testing::child_process& process() { return process_; }

 private:
  testing::child_process process_;
  std::uint16_t port_ = 0;
};

// The value of the series whose line starts with `series` (name and labels), -1 when absent.
double metric_value(const std::string& metrics_text, const std::string& series);

}  // namespace watchpost::agent_test
