#pragma once
// The JSONPath subset of `expect: json` and `capture`: $, .name, ['name'], [index].
// Parsed once at load time; evaluated on a response body with simdjson.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace watchpost::probes {

struct jsonpath {
  using step = std::variant<std::string, std::size_t>;  // member name or array index
  std::string text;                                     // as written, for messages
  std::vector<step> steps;
};

// The path, or a one-line reason ("expected ']' at offset 5") in `error`.
std::optional<jsonpath> parse_jsonpath(std::string_view text, std::string& error);

enum class json_type { missing, null, boolean, number, string, array, object };
std::string_view to_string(json_type type);
// "null", "boolean", "number", "string", "array", "object"; false otherwise.
bool parse_json_type(std::string_view name, json_type& out);

struct json_lookup {
  bool document_valid = true;  // false: the body is not JSON
  json_type type = json_type::missing;
  std::string string_value;  // for strings: the unescaped value
  double number_value = 0;   // for numbers
  bool bool_value = false;   // for booleans
  std::string json;          // the value as minified JSON (any type)
};

json_lookup evaluate_jsonpath(const jsonpath& path, std::string_view document);

}  // namespace watchpost::probes
