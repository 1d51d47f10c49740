#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace watchpost::testing {

std::string test_target_path() { return WATCHPOST_TEST_TARGET_PATH; }
std::string watchpost_binary_path() { return WATCHPOST_BINARY_PATH; }
std::string source_dir() { return WATCHPOST_SOURCE_DIR; }

namespace {

using steady = std::chrono::steady_clock;

pid_t spawn(const std::string& program, const std::vector<std::string>& args, int stdout_fd, int stderr_fd,
            const std::map<std::string, std::string>& env) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    dup2(stdout_fd, 1);
    if (stderr_fd >= 0) dup2(stderr_fd, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Drains whatever is readable from fd into out; false at EOF.
bool drain(int fd, std::string& out) {
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    out.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  return n < 0 && (errno == EAGAIN || errno == EINTR);
}

}  // namespace

child_process::child_process(const std::string& program, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = spawn(program, args, fds[1], -1, {});
  close(fds[1]);
  stdout_fd_ = fds[0];
}

child_process::~child_process() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::string child_process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) return "";
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    if (!drain(stdout_fd_, pending_)) return std::exchange(pending_, {});
  }
}

void child_process::signal(int sig) {
  if (!exited_) kill(pid_, sig);
}

int child_process::wait(std::chrono::milliseconds timeout) {
  if (exited_) return decode_status(status_);
  const auto deadline = steady::now() + timeout;
  while (steady::now() < deadline) {
    if (waitpid(pid_, &status_, WNOHANG) == pid_) {
      exited_ = true;
      return decode_status(status_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

test_target::test_target(const std::vector<std::string>& extra_args)
    : process_(test_target_path(), extra_args) {
  std::string line = process_.read_line(std::chrono::seconds(15));
  std::istringstream in(line);
  std::string word;
  in >> word;
  if (word != "READY") throw std::runtime_error("test target did not start: '" + line + "'");
  while (in >> word) {
    if (word.rfind("http=", 0) == 0)
      http_port_ = static_cast<std::uint16_t>(std::stoi(word.substr(5)));
    else if (word.rfind("https=", 0) == 0)
      https_port_ = static_cast<std::uint16_t>(std::stoi(word.substr(6)));
    else if (word.rfind("cert=", 0) == 0)
      cert_file_ = word.substr(5);
  }
}

std::string test_target::http_url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(http_port_) + path;
}
std::string test_target::https_url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(https_port_) + path;
}

command_result run_watchpost(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env,
                             std::chrono::milliseconds timeout) {
  return run_program(watchpost_binary_path(), args, env, timeout);
}

command_result run_program(const std::string& program, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  const auto start = steady::now();
  pid_t pid = spawn(program, args, out_pipe[1], err_pipe[1], env);
  close(out_pipe[1]);
  close(err_pipe[1]);
  command_result result;
  bool out_open = true, err_open = true;
  const auto deadline = start + timeout;
  while ((out_open || err_open) && steady::now() < deadline) {
    pollfd p[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0}, {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    if (poll(p, 2, 100) <= 0) continue;
    if (out_open && (p[0].revents & (POLLIN | POLLHUP))) out_open = drain(out_pipe[0], result.out);
    if (err_open && (p[1].revents & (POLLIN | POLLHUP))) err_open = drain(err_pipe[0], result.err);
  }
  int status = 0;
  if (out_open || err_open) kill(pid, SIGKILL);  // over time: fail loudly via exit code
  waitpid(pid, &status, 0);
  result.wall = steady::now() - start;
  result.exit_code = (out_open || err_open) ? -1 : decode_status(status);
  close(out_pipe[0]);
  close(err_pipe[0]);
  return result;
}

std::uint16_t read_agent_port(child_process& agent) {
  const std::string line = agent.read_line(std::chrono::seconds(10));
  const auto colon = line.rfind(':');
  if (!line.starts_with("READY listen=") || colon == std::string::npos)
    throw std::runtime_error("agent did not start: '" + line + "'");
  return static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}

long proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  const std::string prefix = field + ":";
  for (std::string line; std::getline(status, line);)
    if (line.rfind(prefix, 0) == 0) return std::stol(line.substr(prefix.size()));
  return 0;
}

}  // namespace watchpost::testing
