#pragma once
// Real HTTP/2 peers for the probe client's tests: Debian's nginx (h2 by ALPN on TLS, or TLS
// without h2) and nghttpd (h2c with prior knowledge), each on a loopback port of its own.
#include <cstdint>
#include <string>

#include "process.hpp"

namespace watchpost::testing {

// The routes both peers serve: /health ({"status":"ok"}), / (HTML) and /status/503.
// nginx on 127.0.0.1 with TLS from dir/cert.pem and dir/key.pem; with http2 it offers h2 by
// ALPN, without it only HTTP/1.1. Its config, logs and temp files stay in dir.
class nginx_peer {
 public:
  nginx_peer(const std::string& nginx_binary, const std::string& dir, bool http2,
             const std::string& extra_config = "");
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;

 private:
  std::uint16_t port_;
  child_process process_;
};

// nghttpd serving the files of dir/htdocs over h2c (no TLS) on 127.0.0.1.
class nghttpd_peer {
 public:
  nghttpd_peer(const std::string& nghttpd_binary, const std::string& dir);
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;

 private:
  std::uint16_t port_;
  child_process process_;
};

}  // namespace watchpost::testing
