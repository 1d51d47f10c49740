#pragma once
// ${NAME} substitution. Load-time names (--var, the environment, ${env:NAME}) are replaced
// while the file is read; capture names declared by earlier checks stay as references and
// are filled in at run time. Any other name is a config_error at its file:line:col.
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "watchpost/common/config_file.hpp"
#include "watchpost/probes/redact.hpp"

namespace watchpost::probes {

// A string with run-time references to captures.
struct text_template {
  struct capture_ref {
    std::string name;
  };
  std::vector<std::variant<std::string, capture_ref>> parts;

  static text_template literal(std::string text);
  bool is_literal() const;
  std::set<std::string> captures_used() const;
  // Captured values for every reference; a missing capture renders as empty (the runner
  // skips checks whose captures are missing before rendering).
  std::string render(const std::map<std::string, std::string>& captures) const;
};

class variable_scope {
 public:
  // vars: --var k=v. secrets: receives every ${env:...} value.
  variable_scope(std::map<std::string, std::string> vars, redactor& secrets);

  // Declares a capture name available to later checks.
  void declare_capture(const std::string& name);
  bool is_capture(const std::string& name) const { return captures_.contains(name); }

  // Expands the scalar at `node`; throws config_error at the node for unknown names or a
  // malformed "${". When allow_captures is false, capture references are errors too.
  text_template expand(const config_file& file, const YAML::Node& node, std::string_view what,
                       bool allow_captures = true) const;
  // Expands and requires the result to contain no capture reference.
  std::string expand_now(const config_file& file, const YAML::Node& node, std::string_view what) const;

 private:
  std::map<std::string, std::string> vars_;
  std::set<std::string> captures_;
  redactor& secrets_;
};

}  // namespace watchpost::probes
