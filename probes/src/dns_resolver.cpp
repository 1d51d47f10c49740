// c-ares driven by Asio: c-ares reports the sockets it wants watched (ARES_OPT_SOCK_STATE_CB),
// each is watched through a non-owning stream_descriptor, and one steady_timer fires at
// c-ares' next retry. Every handler holds only a weak_ptr to the resolver's state, so a
// resolver destroyed while its io_context still runs is never touched afterwards.
#include "watchpost/probes/dns_resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace watchpost::probes {

namespace asio = boost::asio;
using boost::system::error_code;
using time_point = monotonic_clock::time_point;

namespace {

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    const int status = ares_library_init(ARES_LIB_INIT_ALL);
    if (status != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
  });
}

// One ares_getaddrinfo in flight, shared by the waiting coroutine and c-ares' callback: a
// caller that gave up at its deadline leaves the record for the late callback to fill.
struct lookup {
  explicit lookup(const asio::any_io_executor& executor) : wake(executor) {}
  asio::steady_timer wake;  // expires at the caller's deadline; cancelled when the answer arrives
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<asio::ip::address> addresses;
};

void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* answer) {
  const std::unique_ptr<std::shared_ptr<lookup>> owner(static_cast<std::shared_ptr<lookup>*>(arg));
  lookup& l = **owner;
  l.done = true;
  l.status = status;
  if (answer) {
    for (const ares_addrinfo_node* n = answer->nodes; n; n = n->ai_next) {
      if (n->ai_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(n->ai_addr);
        l.addresses.emplace_back(asio::ip::address_v4(ntohl(in->sin_addr.s_addr)));
      } else if (n->ai_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(n->ai_addr);
        asio::ip::address_v6::bytes_type bytes;
        std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
        l.addresses.emplace_back(asio::ip::address_v6(bytes, in6->sin6_scope_id));
      }
    }
    ares_freeaddrinfo(answer);
  }
  l.wake.cancel();
}

std::vector<asio::ip::tcp::endpoint> with_port(const std::vector<asio::ip::address>& addresses,
                                               std::uint16_t port) {
  std::vector<asio::ip::tcp::endpoint> out;
  out.reserve(addresses.size());
  for (const auto& a : addresses) out.emplace_back(a, port);
  return out;
}

bool valid_port(std::string_view text) {
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc{} && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

}  // namespace

nanoseconds dns_try_timeout_for(nanoseconds budget) {
  // Tries start at 0, T and 3T: the third one still begins inside a budget of 4T.
  return std::clamp(budget / 4, nanoseconds{std::chrono::milliseconds(50)}, default_dns_try_timeout);
}

resolver_options resolver_options_for(const client_options& client) {
  resolver_options out;
  out.servers = client.dns_servers;
  out.try_timeout = dns_try_timeout_for(std::min(client.connect_timeout, client.total_timeout));
  return out;
}

std::optional<std::string> dns_server_error(std::string_view server) {
  const std::string shown(server);
  std::string_view host = server;
  std::optional<std::string_view> port;
  if (server.starts_with("[")) {
    const auto close = server.find(']');
    if (close == std::string_view::npos) return "DNS server '" + shown + "' has no closing ']'";
    host = server.substr(1, close - 1);
    const std::string_view rest = server.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(":")) return "DNS server '" + shown + "' must be [IPv6]:PORT";
    if (!rest.empty()) port = rest.substr(1);
  } else if (std::count(server.begin(), server.end(), ':') == 1) {
    const auto colon = server.find(':');
    host = server.substr(0, colon);
    port = server.substr(colon + 1);
  }
  error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec || (server.starts_with("[") && !address.is_v6()))
    return "DNS server '" + shown + "' must be IP[:PORT] (an address, not a name; IPv6 as [::1]:53)";
  if (port && !valid_port(*port)) return "DNS server '" + shown + "': port must be 1..65535";
  return std::nullopt;
}

std::optional<std::string> dns_servers_error(std::string_view servers) {
  std::size_t start = 0;
  while (start <= servers.size()) {
    const auto comma = std::min(servers.find(',', start), servers.size());
    if (auto error = dns_server_error(servers.substr(start, comma - start))) return error;
    start = comma + 1;
  }
  return std::nullopt;
}

struct dns_resolver::impl : std::enable_shared_from_this<impl> {
  // A socket c-ares asked us to watch. The descriptor never owns the fd: c-ares closes it,
  // after telling us (release() first), so it is never closed twice.
  struct watch {
    watch(const asio::any_io_executor& executor, ares_socket_t fd) : descriptor(executor, fd) {}
    asio::posix::stream_descriptor descriptor;
    bool open = true;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;  // an async_wait of that direction is pending
  };
  struct cache_entry {
    std::vector<asio::ip::address> addresses;
    time_point expires;
  };

  asio::any_io_executor executor;
  resolver_options options;
  ares_channel channel = nullptr;
  asio::steady_timer retry_timer;
  std::map<ares_socket_t, std::shared_ptr<watch>> watches;
  std::unordered_map<std::string, cache_entry> cache;
  std::size_t waiting = 0;  // coroutines awaiting an answer

  impl(asio::any_io_executor ex, resolver_options opts)
      : executor(std::move(ex)), options(std::move(opts)), retry_timer(executor) {
    init_library_once();
    ares_options o{};
    o.sock_state_cb = &impl::on_socket_state;
    o.sock_state_cb_data = this;
    o.timeout =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(options.try_timeout).count());
    o.tries = std::max(1, options.tries);
    int status =
        ares_init_options(&channel, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (status != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
    if (options.servers.empty()) return;
    if (auto error = dns_servers_error(options.servers)) {
      ares_destroy(channel);
      throw std::runtime_error(*error);
    }
    status = ares_set_servers_ports_csv(channel, options.servers.c_str());
    if (status != ARES_SUCCESS) {
      ares_destroy(channel);
      throw std::runtime_error("DNS servers '" + options.servers + "': " + ares_strerror(status));
    }
  }

  // Queries still in flight end with ARES_EDESTRUCTION; their sockets are released via the callback.
  ~impl() { ares_destroy(channel); }

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto& self = *static_cast<impl*>(data);
    auto found = self.watches.find(fd);
    if (!readable && !writable) {
      if (found == self.watches.end()) return;
      found->second->open = false;
      found->second->descriptor.release();  // cancels its waits; c-ares closes the fd
      self.watches.erase(found);
      return;
    }
    if (found == self.watches.end())
      found = self.watches.emplace(fd, std::make_shared<watch>(self.executor, fd)).first;
    found->second->want_read = readable != 0;
    found->second->want_write = writable != 0;
    self.arm(found->second);
  }

  void arm(const std::shared_ptr<watch>& w) {
    if (w->open && w->want_read && !w->reading) wait_for(w, asio::posix::descriptor_base::wait_read);
    if (w->open && w->want_write && !w->writing) wait_for(w, asio::posix::descriptor_base::wait_write);
  }

  void wait_for(const std::shared_ptr<watch>& w, asio::posix::descriptor_base::wait_type type) {
    const bool read = type == asio::posix::descriptor_base::wait_read;
    (read ? w->reading : w->writing) = true;
    w->descriptor.async_wait(type, [weak = weak_from_this(), w, read](error_code ec) {
      (read ? w->reading : w->writing) = false;
      if (ec || !w->open) return;
      const auto self = weak.lock();
      if (!self) return;
      const ares_socket_t fd = w->descriptor.native_handle();
      ares_process_fd(self->channel, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
      self->arm(w);
      self->schedule_retry();
    });
  }

  // Arms the timer for c-ares' next per-try timeout (none when no query is pending).
  void schedule_retry() {
    timeval tv{};
    if (!ares_timeout(channel, nullptr, &tv)) {
      retry_timer.cancel();
      return;
    }
    retry_timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    retry_timer.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (const auto self = weak.lock()) {
        ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->schedule_retry();
      }
    });
  }

  void start(const std::string& host, const std::shared_ptr<lookup>& l) {
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    ares_getaddrinfo(channel, host.c_str(), nullptr, &hints, &on_addrinfo, new std::shared_ptr<lookup>(l));
    schedule_retry();
  }

  // When no caller is left waiting, the queries still running serve nobody: cancelling them
  // closes their sockets and lets a one-shot io_context finish at the deadline.
  void abandon() {
    if (waiting == 0) ares_cancel(channel);
    schedule_retry();
  }

  const cache_entry* cached(const std::string& host) {
    const auto found = cache.find(host);
    if (found == cache.end()) return nullptr;
    if (found->second.expires > monotonic_clock::now()) return &found->second;
    cache.erase(found);
    return nullptr;
  }

  void remember(const std::string& host, const std::vector<asio::ip::address>& addresses) {
    if (options.cache_ttl <= nanoseconds{0} || options.max_cache_hosts == 0) return;
    const auto now = monotonic_clock::now();
    if (cache.size() >= options.max_cache_hosts)
      std::erase_if(cache, [&](const auto& e) { return e.second.expires <= now; });
    if (cache.size() >= options.max_cache_hosts)
      cache.erase(std::min_element(cache.begin(), cache.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      }));
    cache[host] = {addresses, now + options.cache_ttl};
  }
};

dns_resolver::dns_resolver(asio::any_io_executor executor, resolver_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {}

dns_resolver::~dns_resolver() = default;

std::size_t dns_resolver::cached_hosts() const { return impl_->cache.size(); }

asio::awaitable<resolve_outcome> dns_resolver::resolve(std::string host, std::uint16_t port,
                                                       time_point deadline) {
  const std::shared_ptr<impl> state = impl_;
  if (const auto* hit = state->cached(host)) co_return resolve_outcome{with_port(hit->addresses, port), {}};
  const auto started = monotonic_clock::now();
  const auto pending = std::make_shared<lookup>(state->executor);
  pending->wake.expires_at(deadline);
  ++state->waiting;
  state->start(host, pending);
  if (!pending->done) co_await pending->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  --state->waiting;
  if (!pending->done) {
    state->abandon();
    // In hundredths: the wait ends a little short of a round budget (the caller's clock started
    // first), and "after 1s" is what a --timeout 1s user should read.
    const auto waited =
        std::chrono::round<std::chrono::duration<std::int64_t, std::centi>>(monotonic_clock::now() - started);
    co_return resolve_outcome{{}, "resolving '" + host + "' timed out after " + format_duration(waited)};
  }
  if (pending->status != ARES_SUCCESS || pending->addresses.empty()) {
    const std::string reason =
        pending->status != ARES_SUCCESS ? ares_strerror(pending->status) : "no addresses";
    co_return resolve_outcome{{}, "cannot resolve '" + host + "': " + reason};
  }
  state->remember(host, pending->addresses);
  co_return resolve_outcome{with_port(pending->addresses, port), {}};
}

}  // namespace watchpost::probes
