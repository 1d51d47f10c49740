#pragma once
// One redactor per run: it knows every secret string (values from ${env:...}, Authorization
// and Cookie header values, values marked `secret: true`, secret captures) and replaces them
// with "***" in any string about to reach an output (console, JSON, JUnit, webhook, stderr).
#include <map>
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
  // Registers the secrets of a named slot, replacing what the slot held before: a value that
  // is captured anew on every run (a login token) keeps one entry per slot, not one per run,
  // so a runner that logs in every minute for weeks holds a bounded set.
  void set_slot(const std::string& slot, std::string_view secret);
  void set_credential_slot(const std::string& slot, std::string_view value);
  std::size_t size() const { return sorted_.size(); }
  std::string apply(std::string_view text) const;
  std::string operator()(std::string_view text) const { return apply(text); }
  bool empty() const { return sorted_.empty(); }
  void merge(const redactor& other);

 private:
  void rebuild();

  std::vector<std::string> fixed_;                         // add(): kept for the redactor's life
  std::map<std::string, std::vector<std::string>> slots_;  // set_slot(): replaced per slot
  std::vector<std::string> sorted_;                        // both, distinct, longest first
};

// Header names whose values are always secret.
bool is_credential_header(std::string_view name);

}  // namespace watchpost::probes
