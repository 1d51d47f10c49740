#include "watchpost/probes/url.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <charconv>

namespace watchpost::probes {

namespace {

// The URL as error messages quote it: a user:password before the host becomes ***, so a
// credential typed into a URL never reaches a message (the URL is rejected for carrying it).
std::string quoted_url(std::string_view text) {
  std::string out(text);
  const auto scheme_end = out.find("://");
  const auto authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto authority_end = std::min(out.find_first_of("/?#", authority), out.size());
  const auto at = out.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at != std::string::npos && at >= authority && at < authority_end)
    out.replace(authority, at - authority, "***");
  return "'" + out + "'";
}

std::variant<url, url_error> from_boost(const boost::urls::url_view& u, std::string_view text) {
  const std::string quoted = quoted_url(text);
  if (!u.has_scheme()) return url_error{"URL " + quoted + " has no scheme (expected http:// or https://)"};
  url out;
  const auto scheme = u.scheme();
  if (scheme == "https")
    out.tls = true;
  else if (scheme != "http")
    return url_error{"URL " + quoted + " has unsupported scheme '" + std::string(scheme) +
                     "' (expected http or https)"};
  if (!u.has_authority() || u.encoded_host().empty())
    return url_error{"URL " + quoted + " has an empty host"};
  if (u.has_userinfo())
    return url_error{"URL " + quoted + " must not carry credentials; use a header instead"};
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipvfuture:
      return url_error{"URL " + quoted + " has an unsupported IP literal"};
    default:
      out.host = u.host();
      // host() decodes %XX: "%0d%0a" would put CR LF into the Host header, "%20" a space
      // into the request. Only what a DNS name or IPv4 literal can hold is accepted.
      for (const char c : out.host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
          return url_error{"URL " + quoted + " has an invalid host name"};
      break;
  }
  if (u.has_port()) {
    // port_number() wraps values above 65535, so the digits are checked here.
    const auto digits = u.port();
    unsigned long port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port == 0 ||
        port > 65535)
      return url_error{"URL " + quoted + " has an invalid port '" + std::string(digits) +
                       "' (expected 1-65535)"};
    out.port = static_cast<std::uint16_t>(port);
  } else {
    out.port = out.tls ? 443 : 80;
  }
  std::string target = std::string(u.encoded_path());
  if (target.empty()) target = "/";
  if (target.front() != '/') return url_error{"URL " + quoted + " has a relative path"};
  if (u.has_query()) target += "?" + std::string(u.encoded_query());
  out.target = std::move(target);
  return out;
}

}  // namespace

std::string url::authority() const {
  std::string a = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) a += ":" + std::to_string(port);
  return a;
}

std::string url::to_string() const { return scheme() + "://" + authority() + target; }

std::variant<url, url_error> parse_url(std::string_view text) {
  if (text.empty()) return url_error{"URL is empty"};
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    if (text.find("://") == std::string_view::npos)
      return url_error{"URL " + quoted_url(text) + " has no scheme (expected http:// or https://)"};
    return url_error{"URL " + quoted_url(text) + " is malformed: " + parsed.error().message()};
  }
  return from_boost(*parsed, text);
}

std::variant<url, url_error> resolve_reference(const url& base, std::string_view reference) {
  auto ref = boost::urls::parse_uri_reference(reference);
  if (!ref) return url_error{"redirect Location " + quoted_url(reference) + " is malformed"};
  const std::string base_text = base.to_string();  // the view below points into it
  auto base_parsed = boost::urls::parse_absolute_uri(base_text);
  if (!base_parsed) return url_error{"base URL is malformed"};
  boost::urls::url resolved;
  auto r = boost::urls::resolve(*base_parsed, *ref, resolved);
  if (!r) return url_error{"redirect Location " + quoted_url(reference) + " cannot be resolved"};
  return from_boost(resolved, resolved.buffer());
}

bool is_ip_literal(std::string_view host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

}  // namespace watchpost::probes
