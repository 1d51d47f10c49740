#include "watchpost/probes/wire.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace watchpost::probes {

namespace {

bool breaks_line(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }
bool breaks_token(std::string_view s) {
  return s.empty() || s.find_first_of(" \r\n") != std::string_view::npos;
}

}  // namespace

bool serialize_request(std::string_view method, std::string_view target, const header_list& headers,
                       std::string_view body, std::string_view authority, const wire_options& options,
                       std::string& out) {
  out.clear();
  if (breaks_token(method) || breaks_token(target)) return false;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  if (!find_header(headers, "Host")) out.append("Host: ").append(authority).append("\r\n");
  if (!options.user_agent.empty() && !find_header(headers, "User-Agent"))
    out.append("User-Agent: ").append(options.user_agent).append("\r\n");
  for (const auto& h : headers) {
    if (h.name.empty() || breaks_line(h.name) || breaks_line(h.value)) return false;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (!options.keep_alive && !find_header(headers, "Connection")) out.append("Connection: close\r\n");
  if (sends_body(method, body) && !find_header(headers, "Content-Length"))
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return true;
}

bool sends_body(std::string_view method, std::string_view body) {
  return !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
}

tls_peer::tls_peer(std::string host) : host_(std::move(host)), is_ip_(is_ip_literal(host_)) {}

bool tls_peer::apply(ssl_st* session) const {
  if (is_ip_) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), host_.c_str()) == 1;
  return SSL_set_tlsext_host_name(session, host_.c_str()) == 1 && SSL_set1_host(session, host_.c_str()) == 1;
}

}  // namespace watchpost::probes
