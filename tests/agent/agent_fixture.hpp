#pragma once
// Real-process helpers for the agent tests: a running `watchpost agent` and small HTTP/file
// utilities. Each fails loudly (throws with the reason): a crashed agent must fail a test, never
// read as an empty answer.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"
#include "webhook_receiver.hpp"

namespace watchpost::agent_test {

// The webhook receiver and reserve_port live in tests/support (webhook_receiver.hpp).
using testing::received_webhook;
using testing::reserve_port;
using testing::webhook_receiver;

// `watchpost agent <config> [extra_args...]` with READY parsed.
class running_agent {
 public:
  explicit running_agent(const std::string& config_path, const std::vector<std::string>& extra_args = {});
  std::uint16_t port() const { return port_; }
  testing::child_process& process() { return process_; }
  std::string get(
      const std::string& path) const;  // body of GET http://127.0.0.1:port/path (throws on failure)

 private:
  testing::child_process process_;
  std::uint16_t port_ = 0;
};

std::string temp_dir(const std::string& name);                      // fresh, empty
void write_text(const std::string& path, const std::string& text);  // throws when it cannot
// The body of GET url, whatever the status; throws std::runtime_error naming the URL and the
// failure (connect, timeout...) when no answer came.
std::string http_get(const std::string& url);
// The same for polls where "not answering yet" is expected (readiness): nullopt then.
std::optional<std::string> try_http_get(const std::string& url);
// Polls pred every 50 ms until true or the timeout passes.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// The binary's path; FAILs the running test, naming the Debian package, when it is missing: CI
// installs the real peers (scripts/install-deps.sh --test), so a missing one must not pass as a skip.
std::string require_installed(const std::string& binary, const std::string& package);
// A fresh self-signed P-256 certificate for 127.0.0.1 from the openssl binary (REQUIREs it):
// dir/cert.pem and dir/key.pem.
void make_test_certificate(const std::string& dir);

}  // namespace watchpost::agent_test
