#include "watchpost/probes/variables.hpp"

#include <cctype>
#include <cstdlib>

namespace watchpost::probes {

text_template text_template::literal(std::string text) {
  text_template t;
  if (!text.empty()) t.parts.emplace_back(std::move(text));
  return t;
}

bool text_template::is_literal() const {
  for (const auto& p : parts)
    if (std::holds_alternative<capture_ref>(p)) return false;
  return true;
}

std::set<std::string> text_template::captures_used() const {
  std::set<std::string> names;
  for (const auto& p : parts)
    if (const auto* ref = std::get_if<capture_ref>(&p)) names.insert(ref->name);
  return names;
}

std::string text_template::render(const std::map<std::string, std::string>& captures) const {
  std::string out;
  for (const auto& p : parts) {
    if (const auto* text = std::get_if<std::string>(&p)) {
      out += *text;
    } else if (auto it = captures.find(std::get<capture_ref>(p).name); it != captures.end()) {
      out += it->second;
    }
  }
  return out;
}

variable_scope::variable_scope(std::map<std::string, std::string> vars, redactor& secrets)
    : vars_(std::move(vars)), secrets_(secrets) {}

void variable_scope::declare_capture(const std::string& name) { captures_.insert(name); }

namespace {
bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}
}  // namespace

text_template variable_scope::expand(const config_file& file, const YAML::Node& node, std::string_view what,
                                     bool allow_captures) const {
  const std::string text = file.string(node, what);
  text_template out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.parts.emplace_back(std::move(literal));
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "${") != 0) {
      literal += text[i++];
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string::npos)
      file.fail(node, std::string(what) + ": unterminated '${' in '" + text + "'");
    const std::string name = text.substr(i + 2, close - i - 2);
    i = close + 1;
    if (name.starts_with("env:")) {
      const std::string env_name = name.substr(4);
      const char* value = valid_name(env_name) ? std::getenv(env_name.c_str()) : nullptr;
      if (!value) file.fail(node, std::string(what) + ": environment variable '" + env_name + "' is not set");
      secrets_.add(value);  // everything from ${env:...} is treated as a secret
      literal += value;
      continue;
    }
    if (!valid_name(name)) file.fail(node, std::string(what) + ": invalid variable name '${" + name + "}'");
    if (auto it = vars_.find(name); it != vars_.end()) {
      literal += it->second;
    } else if (captures_.contains(name)) {
      if (!allow_captures)
        file.fail(node, std::string(what) + ": capture '${" + name +
                            "}' cannot be used here (only load-time variables)");
      flush();
      out.parts.emplace_back(text_template::capture_ref{name});
    } else if (const char* env = std::getenv(name.c_str())) {
      literal += env;
    } else {
      file.fail(node, std::string(what) + ": unknown variable '${" + name +
                          "}' (not a --var, an environment variable or a capture of an earlier check)");
    }
  }
  flush();
  return out;
}

std::string variable_scope::expand_now(const config_file& file, const YAML::Node& node,
                                       std::string_view what) const {
  return expand(file, node, what, false).render({});
}

}  // namespace watchpost::probes
