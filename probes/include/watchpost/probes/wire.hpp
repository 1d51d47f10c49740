#pragma once
// What both HTTP clients (the probe client and the load engine) put on the wire: the request
// bytes and the client side of a TLS session. One copy, so both reject the same requests and
// verify servers the same way.
#include <string>
#include <string_view>

#include "watchpost/probes/http_types.hpp"

struct ssl_st;  // OpenSSL's SSL, kept out of this header

namespace watchpost::probes {

struct wire_options {
  bool keep_alive = true;       // false: "Connection: close" unless the request sets Connection
  std::string_view user_agent;  // added when non-empty and the request sets no User-Agent
};

// The request line, headers and body into `out` (cleared first, its capacity reused). Host is
// added when absent, and Content-Length when there is a body or the method carries one (POST,
// PUT, PATCH). False, with `out` unspecified, when the method, the target or a header would
// break the framing: a CR or LF anywhere (e.g. from a captured variable), a space in the method
// or target, an empty method or header name.
bool serialize_request(std::string_view method, std::string_view target, const header_list& headers,
                       std::string_view body, std::string_view authority, const wire_options& options,
                       std::string& out);

// Whether a request carries a body, so its length is sent even when zero: a body is present or
// the method expects one (POST, PUT, PATCH). The same rule for HTTP/1.1 and HTTP/2.
bool sends_body(std::string_view method, std::string_view body);

// The name a TLS client sends and verifies: SNI and the certificate's DNS name for a host
// name; only the certificate's IP address for an IP literal (SNI carries no addresses).
class tls_peer {
 public:
  explicit tls_peer(std::string host);
  // Sets SNI and host verification on a client session before its handshake. False when
  // OpenSSL refused (out of memory, a name it cannot encode).
  bool apply(ssl_st* session) const;
  const std::string& host() const { return host_; }
  bool is_ip() const { return is_ip_; }

 private:
  std::string host_;
  bool is_ip_;
};

}  // namespace watchpost::probes
