#pragma once
// Real processes for integration tests: the loopback test target and the watchpost binary.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace watchpost::testing {

std::string test_target_path();
std::string watchpost_binary_path();
std::string source_dir();

// A child process whose stdout is read line by line; killed (SIGKILL) and reaped on destruction.
class child_process {
 public:
  child_process(const std::string& program, const std::vector<std::string>& args);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Next line of stdout, or "" at EOF / after `timeout`.
  std::string read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void signal(int sig);
  // Waits for exit; returns the exit status (128+signal if killed), -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string pending_;
  bool exited_ = false;
  int status_ = 0;
};

// The test target on ephemeral loopback ports. It prints one line,
// "READY http=<port> https=<port> cert=<path>", which this parses.
class test_target {
 public:
  explicit test_target(const std::vector<std::string>& extra_args = {});
  std::uint16_t http_port() const { return http_port_; }
  std::uint16_t https_port() const { return https_port_; }
  const std::string& cert_file() const { return cert_file_; }
  std::string http_url(const std::string& path = "/") const;
  std::string https_url(const std::string& path = "/") const;
  child_process& process() { return process_; }

 private:
  child_process process_;
  std::uint16_t http_port_ = 0;
  std::uint16_t https_port_ = 0;
  std::string cert_file_;
};

// Waits for a started `watchpost agent` to print "READY listen=HOST:PORT" and returns the port;
// throws std::runtime_error with the line it got otherwise.
std::uint16_t read_agent_port(child_process& agent);

struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::chrono::nanoseconds wall{0};
};
// Runs the watchpost binary with args to completion, capturing stdout and stderr.
command_result run_watchpost(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env = {},
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));
// The same for any program (an absolute path: no PATH search), e.g. a peer tool such as nghttp.
command_result run_program(const std::string& program, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A kB field of /proc/PID/status (e.g. "VmRSS", "VmHWM") in KiB; 0 when it cannot be read.
long proc_status_kib(pid_t pid, const std::string& field);

}  // namespace watchpost::testing
