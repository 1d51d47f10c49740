#include "watchpost/probes/jsonpath.hpp"

#include <simdjson.h>

#include <cctype>
#include <charconv>

namespace watchpost::probes {

std::optional<jsonpath> parse_jsonpath(std::string_view text, std::string& error) {
  jsonpath path;
  path.text = std::string(text);
  auto fail = [&](std::size_t at, const std::string& what) {
    error = "invalid JSONPath '" + std::string(text) + "': " + what + " at offset " + std::to_string(at);
    return std::nullopt;
  };
  if (text.empty() || text[0] != '$') return fail(0, "expected '$'");
  std::size_t i = 1;
  auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  };
  while (i < text.size()) {
    if (text[i] == '.') {
      const std::size_t start = ++i;
      while (i < text.size() && is_name_char(text[i])) ++i;
      if (i == start) return fail(start, "expected a member name");
      path.steps.emplace_back(std::string(text.substr(start, i - start)));
    } else if (text[i] == '[') {
      ++i;
      if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
        const char quote = text[i++];
        const std::size_t close = text.find(quote, i);
        if (close == std::string_view::npos) return fail(i, "unterminated quoted name");
        path.steps.emplace_back(std::string(text.substr(i, close - i)));
        i = close + 1;
      } else {
        std::size_t index = 0;
        auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), index);
        if (ec != std::errc{}) return fail(i, "expected an array index or a quoted name");
        path.steps.emplace_back(index);
        i = static_cast<std::size_t>(end - text.data());
      }
      if (i >= text.size() || text[i] != ']') return fail(i, "expected ']'");
      ++i;
    } else {
      return fail(i, std::string("unexpected '") + text[i] + "' (supported: $.name, $['name'], $[0])");
    }
  }
  return path;
}

std::string_view to_string(json_type type) {
  switch (type) {
    case json_type::missing:
      return "missing";
    case json_type::null:
      return "null";
    case json_type::boolean:
      return "boolean";
    case json_type::number:
      return "number";
    case json_type::string:
      return "string";
    case json_type::array:
      return "array";
    case json_type::object:
      return "object";
  }
  return "missing";
}

bool parse_json_type(std::string_view name, json_type& out) {
  for (auto t : {json_type::null, json_type::boolean, json_type::number, json_type::string, json_type::array,
                 json_type::object}) {
    if (to_string(t) == name) {
      out = t;
      return true;
    }
  }
  return false;
}

json_lookup evaluate_jsonpath(const jsonpath& path, std::string_view document) {
  json_lookup out;
  // A parser per call: evaluations are rare (once per check) and this keeps the function
  // reentrant for concurrent checks.
  simdjson::dom::parser parser;
  simdjson::padded_string padded(document);
  simdjson::dom::element element;
  if (parser.parse(padded).get(element) != simdjson::SUCCESS) {
    out.document_valid = false;
    return out;
  }
  for (const auto& step : path.steps) {
    simdjson::dom::element next;
    simdjson::error_code ec;
    if (const auto* name = std::get_if<std::string>(&step)) {
      simdjson::dom::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) return out;
      ec = object.at_key(*name).get(next);
    } else {
      simdjson::dom::array array;
      if (element.get_array().get(array) != simdjson::SUCCESS) return out;
      ec = array.at(std::get<std::size_t>(step)).get(next);
    }
    if (ec != simdjson::SUCCESS) return out;
    element = next;
  }
  out.json = simdjson::minify(element);
  switch (element.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      out.type = json_type::null;
      break;
    case simdjson::dom::element_type::BOOL:
      out.type = json_type::boolean;
      out.bool_value = element.get_bool().value_unsafe();
      break;
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      out.type = json_type::number;
      out.number_value = element.get_double().value_unsafe();
      break;
    case simdjson::dom::element_type::STRING:
      out.type = json_type::string;
      out.string_value = std::string(element.get_string().value_unsafe());
      break;
    case simdjson::dom::element_type::ARRAY:
      out.type = json_type::array;
      break;
    case simdjson::dom::element_type::OBJECT:
      out.type = json_type::object;
      break;
  }
  return out;
}

}  // namespace watchpost::probes
