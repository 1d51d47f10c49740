#pragma once
// The agent's own HTTP/1.1 server (GET only): /metrics, /healthz, /api/status, /status.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime.hpp"

namespace watchpost::agent::detail {

class status_server {
 public:
  // Binds and starts accepting on io; throws std::runtime_error with a one-line reason
  // (also for unreadable TLS files). With security.user set, every path but /healthz needs
  // basic auth; with security.tls_cert set, it speaks only https.
  status_server(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                const listen_protection& security, request_handler handler);
  ~status_server();
  std::uint16_t port() const;
  void stop();

  struct impl;  // public so the session coroutines in server.cpp can name it

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace watchpost::agent::detail
