#pragma once
// Plain values crossing the client boundary: what to send, how, and what came back.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/common/duration.hpp"
#include "watchpost/probes/failure.hpp"
#include "watchpost/probes/url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace watchpost::probes {

class dns_resolver;

struct header_field {
  std::string name;
  std::string value;
};
using header_list = std::vector<header_field>;

// Case-insensitive lookup of the first header with this name.
const std::string* find_header(const header_list& headers, std::string_view name);
bool iequals(std::string_view a, std::string_view b);
// RFC 9110 9.2.2: methods a client may resend when the first attempt provably never reached the
// application (after an idle keep-alive close), as browsers, Go and k6 do.
bool is_idempotent(std::string_view method);

// Which HTTP a request is sent over. auto: HTTP/2 when a TLS server picks "h2" by ALPN, else
// HTTP/1.1. v2: "h2,http/1.1" offered on TLS (the server's pick is used), h2c with prior
// knowledge on plain http. v1_1: only "http/1.1" offered.
enum class http_version { auto_, v1_1, v2 };
// "auto", "1.1" or "2" (also "http/1.1", "h2"); false when the text is none of these.
bool parse_http_version(std::string_view text, http_version& out);
// The protocol a response came over, as a status line names it: "HTTP/1.1", "HTTP/2".
std::string_view protocol_name(http_version used);
// Its ALPN identifier: "http/1.1", "h2".
std::string_view alpn_name(http_version used);

struct request {
  std::string method = "GET";
  url target;
  header_list headers;  // Host, User-Agent and Content-Length are added when absent
  std::string body;
  std::optional<http_version> version;  // else client_options::version
};

struct tls_options {
  bool insecure = false;  // skip certificate verification (expiry is still read)
  std::string ca_file;    // PEM bundle trusted instead of the system store
};

// A TLS client context: the system store (or ca_file), TLS >= 1.2 offered.
// Throws usage_error (exit 2) if ca_file cannot be loaded, cannot_run (exit 3) without a system store.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const tls_options& options);

struct client_options {
  nanoseconds connect_timeout = std::chrono::seconds(5);  // resolve + TCP connect
  nanoseconds tls_timeout = std::chrono::seconds(5);      // TLS handshake
  nanoseconds total_timeout = std::chrono::seconds(10);   // whole exchange, hard deadline
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::size_t max_header_bytes = 64 * 1024;
  int max_redirects = 0;  // redirects are reported, not followed, unless > 0
  bool keep_alive = true;
  http_version version = http_version::auto_;
  tls_options tls;
  // Shared across clients (loading the system store costs milliseconds). When null, the client
  // builds one from `tls`: at construction if ca_file is set, else on its first https request.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  // DNS servers "IP[:PORT],..." (empty: /etc/resolv.conf), for the client's own resolver.
  std::string dns_servers;
  // Shared by the clients of one thread (its cache, one c-ares channel). When null, the
  // client makes its own from dns_servers on its first lookup of a name.
  std::shared_ptr<dns_resolver> resolver;
};

// Monotonic per-phase durations. Phases that did not happen (reused connection,
// plain HTTP, failure before the phase) are zero.
struct phase_timings {
  nanoseconds resolve{0};
  nanoseconds connect{0};
  nanoseconds tls{0};
  nanoseconds ttfb{0};      // request written -> first response byte
  nanoseconds transfer{0};  // first response byte -> response complete
  nanoseconds total{0};
};

struct tls_info {
  bool present = false;
  std::string version;  // "TLSv1.3"
  std::string cipher;
  std::optional<std::chrono::system_clock::time_point> cert_not_after;
  std::string cert_subject;
  std::string alpn;  // the protocol the server picked ("h2", "http/1.1"); empty when none
};

struct result {
  failure_kind failure = failure_kind::none;
  std::string error;  // one line, secret-free; empty on success
  int status = 0;
  std::string reason;
  header_list headers;
  std::string body;
  phase_timings timings;
  tls_info tls;
  http_version protocol = http_version::v1_1;  // the one the response came over (never auto_)
  bool connection_reused = false;
  // Connections reopened because the server had closed an idle keep-alive connection before the
  // request reached it (the request was resent; not an error).
  int reconnects = 0;
  int redirects_followed = 0;
  std::string effective_url;  // the URL that produced this response

  bool ok() const { return failure == failure_kind::none; }
  const std::string* header(std::string_view name) const { return find_header(headers, name); }
};

}  // namespace watchpost::probes
