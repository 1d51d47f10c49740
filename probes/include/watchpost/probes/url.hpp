#pragma once
// Target URLs: http and https only, host (name, IPv4 or [IPv6] literal), port, path+query.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace watchpost::probes {

struct url {
  bool tls = false;          // https
  std::string host;          // without brackets for IPv6 literals
  std::uint16_t port = 0;    // explicit or the scheme's default
  std::string target = "/";  // path and query, as sent in the request line

  std::string scheme() const { return tls ? "https" : "http"; }
  // "host:port" for the Host header; IPv6 bracketed, default port omitted.
  std::string authority() const;
  std::string to_string() const;
  bool same_origin(const url& other) const {
    return tls == other.tls && host == other.host && port == other.port;
  }
};

// Either a URL or a one-line reason why the text is not one.
struct url_error {
  std::string message;
};
std::variant<url, url_error> parse_url(std::string_view text);

// Resolves a Location header (absolute or relative) against the URL that answered.
std::variant<url, url_error> resolve_reference(const url& base, std::string_view reference);

// True when host is an IPv4 or IPv6 literal: no DNS lookup and no SNI for it.
bool is_ip_literal(std::string_view host);

}  // namespace watchpost::probes
