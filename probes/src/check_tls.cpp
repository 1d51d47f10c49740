// Assertions on the TLS session: protocol version, days of certificate validity left, ALPN.
#include <cmath>

#include "check_kinds.hpp"
#include "check_text.hpp"

namespace watchpost::probes::detail {

namespace {

// "TLSv1.2" -> 1.2
std::optional<double> tls_version_number(std::string_view v) {
  if (v.starts_with("TLSv")) v.remove_prefix(4);
  return to_double(v);
}

}  // namespace

void check_tls(const tls_rule& rule, const result& res, std::vector<std::string>& out) {
  if (!res.tls.present) {
    out.push_back("tls: expected a TLS connection, got plain HTTP");
    return;
  }
  if (rule.min_version) {
    auto have = tls_version_number(res.tls.version);
    if (!have || *have < *to_double(*rule.min_version))
      out.push_back("tls version: expected >= TLSv" + *rule.min_version + ", got " +
                    (res.tls.version.empty() ? "unknown" : res.tls.version));
  }
  if (rule.cert_days_left) {
    if (!res.tls.cert_not_after) {
      out.push_back("tls cert_days_left: expected " + rule.cert_days_left->text +
                    ", got no certificate expiry");
    } else {
      const auto left = *res.tls.cert_not_after - std::chrono::system_clock::now();
      const double days = std::floor(std::chrono::duration<double>(left).count() / 86400.0);
      if (!rule.cert_days_left->holds(days))
        out.push_back("tls cert_days_left: expected " + rule.cert_days_left->text + ", got " +
                      number_text(days));
    }
  }
  if (rule.alpn && *rule.alpn != res.tls.alpn)
    out.push_back("tls alpn: expected " + *rule.alpn + ", got " +
                  (res.tls.alpn.empty() ? "none" : res.tls.alpn));
}

}  // namespace watchpost::probes::detail
