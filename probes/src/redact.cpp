#include "watchpost/probes/redact.hpp"

#include <algorithm>

#include "watchpost/probes/http_types.hpp"

namespace watchpost::probes {

void redactor::add(std::string_view secret) {
  if (secret.empty() || secret == mask) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  std::stable_sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

void redactor::add_credential_header(std::string_view value) {
  add(value);
  // "Bearer abc" / "Basic xyz": servers and error pages echo the credential alone too.
  if (auto space = value.find(' '); space != std::string_view::npos) {
    auto token = value.substr(space + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    add(token);
  }
}

std::string redactor::apply(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : secrets_) {
    for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + mask.size()))
      out.replace(at, secret.size(), mask);
  }
  return out;
}

void redactor::merge(const redactor& other) {
  for (const auto& s : other.secrets_) add(s);
}

bool is_credential_header(std::string_view name) {
  return iequals(name, "Authorization") || iequals(name, "Proxy-Authorization") || iequals(name, "Cookie") ||
         iequals(name, "Set-Cookie") || iequals(name, "X-Api-Key");
}

}  // namespace watchpost::probes
