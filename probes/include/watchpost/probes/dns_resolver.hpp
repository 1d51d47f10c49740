#pragma once
// DNS on c-ares, driven by the io_context it was made on. Lookups run concurrently, each ends
// at its caller's deadline (a dropped query never holds anyone past it), /etc/hosts is
// honoured, and the servers can be given ("127.0.0.1:5353", like curl's --dns-servers).
// One resolver per thread: it is not thread-safe, and its clients share it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/common/duration.hpp"
#include "watchpost/probes/http_types.hpp"

namespace watchpost::probes {

// c-ares doubles the per-try timeout each round (500ms, 1s, 2s) until the tries run out.
inline constexpr nanoseconds default_dns_try_timeout = std::chrono::milliseconds(500);
inline constexpr int default_dns_tries = 3;
inline constexpr nanoseconds default_dns_cache_ttl = std::chrono::seconds(30);  // the agent's default
inline constexpr std::size_t default_dns_cache_hosts = 4096;

struct resolver_options {
  std::string servers;  // "IP[:PORT],..." (IPv6 as [::1]:53); empty = /etc/resolv.conf
  nanoseconds try_timeout = default_dns_try_timeout;
  int tries = default_dns_tries;
  nanoseconds cache_ttl{0};  // positive answers kept this long per host; 0 = no cache
  std::size_t max_cache_hosts = default_dns_cache_hosts;
};

// A first-try timeout that lets a dropped query be retried twice within `budget`.
nanoseconds dns_try_timeout_for(nanoseconds budget);
// The options a client without a shared resolver uses: its servers, tries sized to its deadlines.
resolver_options resolver_options_for(const client_options& client);
// Why one "IP[:PORT]" server entry is unusable, or nullopt when it is fine.
std::optional<std::string> dns_server_error(std::string_view server);
// Checks a comma-separated server list; returns the first entry's error.
std::optional<std::string> dns_servers_error(std::string_view servers);

struct resolve_outcome {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // empty on failure
  // One line on failure: "cannot resolve 'x': Domain name not found" or
  // "resolving 'x' timed out after 1.00s".
  std::string error;
  bool ok() const { return error.empty(); }
};

class dns_resolver {
 public:
  // Throws std::runtime_error when c-ares cannot start or `servers` is malformed.
  dns_resolver(boost::asio::any_io_executor executor, resolver_options options);
  ~dns_resolver();
  dns_resolver(const dns_resolver&) = delete;
  dns_resolver& operator=(const dns_resolver&) = delete;

  // Addresses of host (A and AAAA), with port. Returns at `deadline` at the latest; a query
  // left behind then completes (or is cancelled) later without touching the caller.
  boost::asio::awaitable<resolve_outcome> resolve(std::string host, std::uint16_t port,
                                                  monotonic_clock::time_point deadline);

  std::size_t cached_hosts() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace watchpost::probes
