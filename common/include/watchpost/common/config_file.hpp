#pragma once
// Strict YAML reading shared by suites, load plans and the agent config: every
// error names file:line:column and what was expected; unknown keys are errors.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/common/duration.hpp"
#include "watchpost/common/exit_error.hpp"

namespace watchpost {

// A startup misconfiguration in a file (exit 2). what() is "file:line:column: message".
class config_error : public usage_error {
 public:
  config_error(std::string file, int line, int column, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string file_;
  int line_;
  int column_;
};

class config_file;

// A YAML mapping read key by key; finish() rejects keys nobody asked for.
class mapping_reader {
 public:
  mapping_reader(const config_file& file, const YAML::Node& node, std::string what);
  bool has(std::string_view key) const;
  std::optional<YAML::Node> optional(std::string_view key);
  YAML::Node required(std::string_view key);
  // Throws config_error at the first key not consumed, listing the accepted keys.
  void finish() const;
  const YAML::Node& node() const { return node_; }

 private:
  const config_file& file_;
  YAML::Node node_;
  std::string what_;
  std::vector<std::string> asked_;
};

class config_file {
 public:
  // Reads and parses; syntax errors become config_error at the parser's position.
  static config_file load(const std::string& path);
  static config_file parse(const std::string& text, const std::string& name);

  const std::string& path() const { return path_; }
  const YAML::Node& root() const { return root_; }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const;

  mapping_reader mapping(const YAML::Node& node, std::string what) const {
    return mapping_reader(*this, node, std::move(what));
  }
  std::string string(const YAML::Node& node, std::string_view what) const;
  std::int64_t integer(const YAML::Node& node, std::string_view what) const;
  double number(const YAML::Node& node, std::string_view what) const;
  bool boolean(const YAML::Node& node, std::string_view what) const;
  nanoseconds duration(const YAML::Node& node, std::string_view what) const;
  // A percentage "99.9%" or a plain fraction "0.999", returned as a fraction.
  double ratio(const YAML::Node& node, std::string_view what) const;
  std::vector<YAML::Node> sequence(const YAML::Node& node, std::string_view what) const;

 private:
  std::string path_;
  YAML::Node root_;
};

}  // namespace watchpost
