// Assertions on a JSON body: JSONPath lookups compared, typed or tested for existence.
#include "check_kinds.hpp"
#include "check_text.hpp"

namespace watchpost::probes::detail {

namespace {

std::string describe_json(const json_lookup& v, const redactor& mask) {
  if (v.type == json_type::missing) return "nothing (path not found)";
  if (v.type == json_type::string) return quoted(v.string_value, mask);
  const std::string json = mask(v.json);
  return json.size() > 120 ? json.substr(0, 120) + "..." : json;
}

bool json_equals(const json_lookup& v, const std::string& want) {
  switch (v.type) {
    case json_type::string:
      return v.string_value == want;
    case json_type::number: {
      auto n = to_double(want);
      return n && *n == v.number_value;
    }
    case json_type::boolean:
      return want == (v.bool_value ? "true" : "false");
    case json_type::null:
      return want == "null" || want == "~" || want.empty();
    case json_type::array:
    case json_type::object:
      return v.json == want;
    case json_type::missing:
      return false;
  }
  return false;
}

}  // namespace

void check_json(const expectation& e, const result& res, const std::map<std::string, std::string>& captures,
                const redactor& mask, std::vector<std::string>& out) {
  for (const auto& rule : e.json) {
    const json_lookup v = evaluate_jsonpath(rule.path, res.body);
    const std::string what = "json " + rule.path.text + ": expected ";
    if (!v.document_valid) {
      out.push_back("json " + rule.path.text + ": expected a JSON body, got " + excerpt(res.body, mask));
      continue;
    }
    switch (rule.oper) {
      case json_rule::op::equals: {
        const std::string want = rule.expected.render(captures);
        if (!json_equals(v, want))
          out.push_back(what + quoted(want, mask) + ", got " + describe_json(v, mask));
        break;
      }
      case json_rule::op::exists:
        if ((v.type != json_type::missing) != rule.exists)
          out.push_back(what + (rule.exists ? "to exist, got nothing (path not found)"
                                            : "to be absent, got " + describe_json(v, mask)));
        break;
      case json_rule::op::type:
        if (v.type != rule.type)
          out.push_back(what + "type " + std::string(to_string(rule.type)) + ", got " +
                        std::string(to_string(v.type)) +
                        (v.type == json_type::missing ? "" : " " + describe_json(v, mask)));
        break;
      case json_rule::op::compare:
        if (v.type != json_type::number)
          out.push_back(what + "a number " + rule.compare.text + ", got " + describe_json(v, mask));
        else if (!rule.compare.holds(v.number_value))
          out.push_back(what + rule.compare.text + ", got " + number_text(v.number_value));
        break;
    }
  }
}

}  // namespace watchpost::probes::detail
