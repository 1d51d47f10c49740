#pragma once
// Real-process helpers for the agent tests: a loopback webhook receiver (plain sockets, one
// thread), a running `watchpost agent`, and small HTTP/file utilities.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <atomic>
#include <vector>

#include "process.hpp"

namespace watchpost::agent_test {

struct received_webhook {
  std::string event_id;
  std::string signature;
  std::string body;
};

// Records every POST; answers 200. Binds 127.0.0.1:port (0 = ephemeral).
class webhook_receiver {
 public:
  explicit webhook_receiver(std::uint16_t port = 0);
  ~webhook_receiver();
  std::uint16_t port() const { return port_; }
  std::vector<received_webhook> received() const;

 private:
  void serve();
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<received_webhook> received_;
  std::thread thread_;
};

// A loopback port that was free a moment ago (for servers that must come up later).
std::uint16_t reserve_port();

// `watchpost agent <config>` with READY parsed.
class running_agent {
 public:
  explicit running_agent(const std::string& config_path);
  std::uint16_t port() const { return port_; }
  testing::child_process& process() { return process_; }
  std::string get(const std::string& path) const;  // body of GET http://127.0.0.1:port/path ("" on failure)

 private:
  testing::child_process process_;
  std::uint16_t port_ = 0;
};

std::string temp_dir(const std::string& name);  // fresh, empty
void write_text(const std::string& path, const std::string& text);
std::string http_get(const std::string& url);
// Polls pred every 50 ms until true or the timeout passes.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// The binary's path; FAILs the running test, naming the Debian package, when it is missing: CI
// installs the real peers (scripts/install-deps.sh --test), so a missing one must not pass as a skip.
std::string require_installed(const std::string& binary, const std::string& package);
// A fresh self-signed P-256 certificate for 127.0.0.1 from the openssl binary (REQUIREs it):
// dir/cert.pem and dir/key.pem.
void make_test_certificate(const std::string& dir);

}  // namespace watchpost::agent_test
