#pragma once
// `labels:` of the agent and of a target: they become labels of every series of the target, so
// they are few, valid Prometheus names, and never shadow a label the agent sets itself.
#include <map>
#include <string>
#include <string_view>

#include "watchpost/common/config_file.hpp"

namespace watchpost::agent {

inline constexpr std::size_t max_user_labels = 10;

std::map<std::string, std::string> parse_labels(const config_file& file, const YAML::Node& node,
                                                std::string_view what);

// The agent's labels with the target's added (a target's value wins); fails at `at` past the cap.
std::map<std::string, std::string> merge_labels(const config_file& file, const YAML::Node& at,
                                                const std::map<std::string, std::string>& agent,
                                                const std::map<std::string, std::string>& target);

}  // namespace watchpost::agent
