#include "config_labels.hpp"

#include <array>

namespace watchpost::agent {

namespace {

// The agent's own label names, and job/instance, which Prometheus attaches at scrape time
// (a clash would be renamed to exported_job and silently break dashboards).
constexpr std::array<std::string_view, 10> reserved = {"target", "check", "result",   "phase", "slo",
                                                       "window", "le",    "quantile", "job",   "instance"};

bool valid_name(const std::string& name) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !alpha(name[0])) return false;
  for (char c : name)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

}  // namespace

std::map<std::string, std::string> parse_labels(const config_file& file, const YAML::Node& node,
                                                std::string_view what) {
  if (!node.IsMap()) file.fail(node, std::string(what) + " must be a mapping of name: value");
  std::map<std::string, std::string> out;
  for (const auto& entry : node) {
    const std::string name = file.string(entry.first, "label name");
    if (!valid_name(name) || name.starts_with("__"))
      file.fail(entry.first,
                "label name '" + name + "' must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __");
    for (std::string_view r : reserved)
      if (name == r)
        file.fail(entry.first, "label name '" + name + "' is reserved (the agent or Prometheus sets it)");
    const std::string value = file.string(entry.second, "label value");
    // Prometheus reads an empty value as no label at all; control characters have no place in a label.
    if (value.empty() || value.size() > 128)
      file.fail(entry.second, "label value of '" + name + "' must be 1..128 characters");
    for (unsigned char c : value)
      if (c < 0x20 || c == 0x7f)
        file.fail(entry.second, "label value of '" + name + "' has a control character");
    if (!out.emplace(name, value).second) file.fail(entry.first, "duplicate label name '" + name + "'");
  }
  if (out.size() > max_user_labels)
    file.fail(node, std::string(what) + " has " + std::to_string(out.size()) + " labels; at most " +
                        std::to_string(max_user_labels));
  return out;
}

std::map<std::string, std::string> merge_labels(const config_file& file, const YAML::Node& at,
                                                const std::map<std::string, std::string>& agent,
                                                const std::map<std::string, std::string>& target) {
  std::map<std::string, std::string> out = target;
  out.insert(agent.begin(), agent.end());  // keeps the target's value where both set a name
  if (out.size() > max_user_labels)
    file.fail(at, "the agent's and the target's labels add up to " + std::to_string(out.size()) +
                      "; at most " + std::to_string(max_user_labels));
  return out;
}

}  // namespace watchpost::agent
