#pragma once
// The agent's own HTTP/1.1 server (GET only): /metrics, /healthz, /api/status, /status.
// Hardened against hostile clients: a request is its header only (at most 8 KiB in a 16 KiB read
// buffer: 431), a GET/HEAD with a body is refused (413) without reading it, concurrent clients are
// capped (the excess is accepted and closed at once), and accept errors back off.
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "runtime.hpp"

namespace watchpost::agent::detail {

class metrics_renderer;

struct status_routes {
  request_handler handle;  // every path but /metrics, on the server's (control) thread
  // The /metrics text, on the server's own render thread: it may read shared state only under
  // the locks that guard it. Called at most once per second; concurrent scrapers share a call.
  std::function<std::string()> render_metrics;
};

class status_server {
 public:
  // Binds and starts accepting on io; throws std::runtime_error with a one-line reason
  // (also for unreadable TLS files). With security.user set, every path but /healthz needs
  // basic auth; with security.tls_cert set, it speaks only https. Warns in the log when the
  // address is not loopback and neither is set.
  status_server(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                const listen_protection& security, status_routes routes, int max_connections);
  ~status_server();
  std::uint16_t port() const;
  void set_max_connections(int max_connections);  // from io's thread
  void stop();

  struct impl;  // public so the session coroutines in server.cpp can name it

 private:
  std::shared_ptr<impl> impl_;
  // Not in impl: its queue may hold suspended sessions, which hold impl.
  std::unique_ptr<metrics_renderer> renderer_;
};

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the soft limit in force.
std::uint64_t raise_descriptor_limit();
// The concurrent-client cap: `configured`, lowered so that a flood of clients leaves descriptors
// for the probes (2 per target) and for files, DNS and webhooks (64). At least 1.
int client_cap(int configured, std::uint64_t descriptor_limit, std::size_t targets);

}  // namespace watchpost::agent::detail
