#pragma once
// One redactor per run: it knows every secret string (values from ${env:...}, Authorization
// and Cookie header values, values marked `secret: true`, secret captures) and replaces them
// with "***" in any string about to reach an output (console, JSON, JUnit, webhook, stderr).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace watchpost::probes {

class redactor {
 public:
  static constexpr std::string_view mask = "***";

  // Registers a secret; empty strings are ignored. Longer secrets are replaced first so a
  // secret that contains another is masked whole.
  void add(std::string_view secret);
  // Registers an Authorization/Cookie style value: the whole value and, for "Scheme token",
  // the token alone (servers echo either).
  void add_credential_header(std::string_view value);
  std::string apply(std::string_view text) const;
  std::string operator()(std::string_view text) const { return apply(text); }
  bool empty() const { return secrets_.empty(); }
  void merge(const redactor& other);

 private:
  std::vector<std::string> secrets_;  // sorted longest first
};

// Header names whose values are always secret.
bool is_credential_header(std::string_view name);

}  // namespace watchpost::probes
