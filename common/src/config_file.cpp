#include "watchpost/common/config_file.hpp"

#include <charconv>
#include <cmath>
#include <utility>

#include "watchpost/common/text_file.hpp"

namespace watchpost {

config_error::config_error(std::string file, int line, int column, const std::string& message)
    : usage_error(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

mapping_reader::mapping_reader(const config_file& file, const YAML::Node& node, std::string what)
    : file_(file), node_(node), what_(std::move(what)) {
  if (!node_.IsMap()) file_.fail(node_, what_ + " must be a mapping of key: value");
}

bool mapping_reader::has(std::string_view key) const { return static_cast<bool>(node_[std::string(key)]); }

std::optional<YAML::Node> mapping_reader::optional(std::string_view key) {
  asked_.emplace_back(key);
  // A const lookup: yaml-cpp's non-const operator[] adds a key and a value node to the document
  // for every key that is absent (~2 million nodes, 120 MB, for 10,000 targets), freed only with
  // the document and interleaved with the strings the config keeps (~30 MB of heap left resident).
  YAML::Node value = std::as_const(node_)[std::string(key)];
  if (!value || value.IsNull()) return std::nullopt;
  return value;
}

YAML::Node mapping_reader::required(std::string_view key) {
  auto value = optional(key);
  if (!value) file_.fail(node_, what_ + " is missing required key '" + std::string(key) + "'");
  return *value;
}

void mapping_reader::finish() const {
  for (const auto& entry : node_) {
    if (!entry.first.IsScalar()) file_.fail(entry.first, "keys of " + what_ + " must be plain names");
    const auto key = entry.first.Scalar();
    bool known = false;
    for (const auto& a : asked_) known = known || a == key;
    if (known) continue;
    std::string expected;
    for (const auto& a : asked_) expected += (expected.empty() ? "" : ", ") + a;
    file_.fail(entry.first, "unknown key '" + key + "' in " + what_ + " (expected one of: " + expected + ")");
  }
}

config_file config_file::load(const std::string& path) {
  const auto text = read_text_file(path);
  if (!text) throw config_error(path, 1, 1, "cannot open file");
  return parse(*text, path);
}

config_file config_file::parse(const std::string& text, const std::string& name) {
  config_file file;
  file.path_ = name;
  try {
    file.root_ = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw config_error(name, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  }
  if (!file.root_ || file.root_.IsNull()) throw config_error(name, 1, 1, "file is empty");
  return file;
}

void config_file::fail(const YAML::Node& at, const std::string& message) const {
  const auto mark = at.Mark();
  const bool known = mark.line >= 0;
  throw config_error(path_, known ? mark.line + 1 : 1, known ? mark.column + 1 : 1, message);
}

std::string config_file::string(const YAML::Node& node, std::string_view what) const {
  if (!node.IsScalar()) fail(node, std::string(what) + " must be a string");
  return node.Scalar();
}

std::int64_t config_file::integer(const YAML::Node& node, std::string_view what) const {
  const std::string text = string(node, what);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    fail(node, std::string(what) + " must be an integer, got '" + text + "'");
  return value;
}

double config_file::number(const YAML::Node& node, std::string_view what) const {
  const std::string text = string(node, what);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    fail(node, std::string(what) + " must be a number, got '" + text + "'");
  return value;
}

bool config_file::boolean(const YAML::Node& node, std::string_view what) const {
  const std::string text = string(node, what);
  if (text == "true") return true;
  if (text == "false") return false;
  fail(node, std::string(what) + " must be true or false, got '" + text + "'");
}

nanoseconds config_file::duration(const YAML::Node& node, std::string_view what) const {
  const std::string text = string(node, what);
  auto d = parse_duration(text);
  if (!d)
    fail(node, std::string(what) + " must be a duration like 250ms, 5s, 2m, 1h or 30d, got '" + text + "'");
  return *d;
}

double config_file::ratio(const YAML::Node& node, std::string_view what) const {
  std::string text = string(node, what);
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.pop_back();
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0 ||
      (percent ? value > 100 : value > 1))
    fail(node, std::string(what) + " must be a percentage like 99.9% or a fraction like 0.999");
  return percent ? value / 100 : value;
}

std::vector<YAML::Node> config_file::sequence(const YAML::Node& node, std::string_view what) const {
  if (!node.IsSequence()) fail(node, std::string(what) + " must be a list");
  return {node.begin(), node.end()};
}

}  // namespace watchpost
