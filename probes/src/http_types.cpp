#include "watchpost/probes/http_types.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/ssl/context.hpp>
#include <stdexcept>

#include "watchpost/common/exit_error.hpp"

namespace watchpost::probes {

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" || method == "PUT" ||
         method == "DELETE";
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool parse_http_version(std::string_view text, http_version& out) {
  if (text == "auto")
    out = http_version::auto_;
  else if (text == "1.1" || text == "http/1.1" || text == "HTTP/1.1")
    out = http_version::v1_1;
  else if (text == "2" || text == "h2" || text == "HTTP/2")
    out = http_version::v2;
  else
    return false;
  return true;
}

std::string_view protocol_name(http_version used) { return used == http_version::v2 ? "HTTP/2" : "HTTP/1.1"; }

std::string_view alpn_name(http_version used) { return used == http_version::v2 ? "h2" : "http/1.1"; }

const std::string* find_header(const header_list& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const tls_options& options) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (options.insecure) {
    ctx->set_verify_mode(ssl::verify_none);
    return ctx;
  }
  ctx->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (!options.ca_file.empty()) {
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) throw usage_error("cannot load CA file '" + options.ca_file + "': " + ec.message());
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) throw cannot_run("cannot load the system certificate store: " + ec.message());
  }
  return ctx;
}

}  // namespace watchpost::probes
