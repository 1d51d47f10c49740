#include "watchpost/probes/redact.hpp"

#include <algorithm>

#include "watchpost/probes/http_types.hpp"

namespace watchpost::probes {

namespace {

bool worth_masking(std::string_view secret) { return !secret.empty() && secret != redactor::mask; }

// "Bearer abc" / "Basic xyz": the whole value and the credential alone (servers and error
// pages echo either).
std::vector<std::string> credential_parts(std::string_view value) {
  std::vector<std::string> parts{std::string(value)};
  if (auto space = value.find(' '); space != std::string_view::npos) {
    auto token = value.substr(space + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    parts.emplace_back(token);
  }
  return parts;
}

}  // namespace

void redactor::add(std::string_view secret) {
  if (!worth_masking(secret) || std::find(fixed_.begin(), fixed_.end(), secret) != fixed_.end()) return;
  fixed_.emplace_back(secret);
  rebuild();
}

void redactor::add_credential_header(std::string_view value) {
  for (const auto& part : credential_parts(value)) add(part);
}

void redactor::set_slot(const std::string& slot, std::string_view secret) {
  slots_[slot] = {std::string(secret)};
  rebuild();
}

void redactor::set_credential_slot(const std::string& slot, std::string_view value) {
  slots_[slot] = credential_parts(value);
  rebuild();
}

void redactor::rebuild() {
  sorted_ = fixed_;
  for (const auto& [slot, secrets] : slots_) sorted_.insert(sorted_.end(), secrets.begin(), secrets.end());
  std::erase_if(sorted_, [](const std::string& s) { return !worth_masking(s); });
  // Longest first, so a secret that contains another is masked whole.
  std::sort(sorted_.begin(), sorted_.end(),
            [](const auto& a, const auto& b) { return a.size() != b.size() ? a.size() > b.size() : a < b; });
  sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
}

std::string redactor::apply(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : sorted_) {
    for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + mask.size()))
      out.replace(at, secret.size(), mask);
  }
  return out;
}

void redactor::merge(const redactor& other) {
  for (const auto& secret : other.fixed_)
    if (std::find(fixed_.begin(), fixed_.end(), secret) == fixed_.end()) fixed_.push_back(secret);
  for (const auto& [slot, secrets] : other.slots_) slots_[slot] = secrets;
  rebuild();
}

bool is_credential_header(std::string_view name) {
  return iequals(name, "Authorization") || iequals(name, "Proxy-Authorization") || iequals(name, "Cookie") ||
         iequals(name, "Set-Cookie") || iequals(name, "X-Api-Key");
}

}  // namespace watchpost::probes
