#pragma once
// A loopback DNS responder for tests: UDP on 127.0.0.1, ephemeral port, one thread. Names in
// `answered` get an A record 127.0.0.1 (AAAA: no data), names in `dropped` get no reply at
// all (a resolver that loses queries), anything else gets NXDOMAIN.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace watchpost::testing {

class dns_server {
 public:
  dns_server(std::set<std::string> answered, std::set<std::string> dropped);
  ~dns_server();
  dns_server(const dns_server&) = delete;
  dns_server& operator=(const dns_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }  // for --dns-server
  // Queries received for name (any type; names compare in lower case).
  std::size_t queries(const std::string& name) const;

 private:
  void serve();
  void answer(const unsigned char* query, std::size_t size, const void* peer, unsigned peer_size);

  const std::set<std::string> answered_, dropped_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> queries_;
  std::thread thread_;
};

}  // namespace watchpost::testing
