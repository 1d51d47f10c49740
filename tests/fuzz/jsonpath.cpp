// JSONPath compile and evaluation. The input is a path and a JSON document separated by the
// first newline; the path is evaluated on that document and on a fixed one. Invariants: a
// compiled path keeps its text; a found value re-evaluates to itself as the whole document
// ("$" on the minified JSON gives the same JSON and type).
#include "watchpost/probes/jsonpath.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace watchpost::probes;

constexpr std::string_view fixed_document =
    R"({"status":"ok","n":42,"pi":3.14,"neg":-7,"big":18446744073709551615,"t":true,"f":false,"z":null,)"
    R"("a":[1,"two",{"three":3},[4]],"o":{"k-1":{"k_2":["v"]},"":"empty","q'uote":"x"},"u":"\u00e9\n"})";

void check_lookup(const jsonpath& path, std::string_view document) {
  const json_lookup found = evaluate_jsonpath(path, document);
  if (!found.document_valid || found.type == json_type::missing) return;
  if (found.json.empty()) std::abort();
  std::string error;
  const auto root = parse_jsonpath("$", error);
  if (!root) std::abort();
  const json_lookup again = evaluate_jsonpath(*root, found.json);
  if (!again.document_valid || again.type != found.type || again.json != found.json) std::abort();
  if (found.type == json_type::string && again.string_value != found.string_value) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view text = input.substr(0, newline);
  std::string error;
  const auto path = parse_jsonpath(text, error);
  if (!path) {
    if (error.empty()) std::abort();  // a rejection always says why
    return 0;
  }
  if (path->text != text) std::abort();
  check_lookup(*path, fixed_document);
  if (newline != std::string_view::npos) check_lookup(*path, input.substr(newline + 1));
  return 0;
}
