// Assertions on response text: headers (present, equals, contains, matches) and the body.
#include "check_kinds.hpp"
#include "check_text.hpp"

namespace watchpost::probes::detail {

namespace {

std::string header_text(const result& res, const std::string& name, const redactor& mask) {
  const std::string* v = res.header(name);
  return v ? quoted(*v, mask) : std::string("absent");
}

}  // namespace

void check_headers(const expectation& e, const result& res,
                   const std::map<std::string, std::string>& captures, const redactor& mask,
                   std::vector<std::string>& out) {
  for (const auto& rule : e.headers) {
    const std::string* actual = res.header(rule.name);
    const std::string what = "header " + rule.name + ": expected ";
    switch (rule.oper) {
      case header_rule::op::present:
        if (!actual) out.push_back(what + "present, got absent");
        break;
      case header_rule::op::absent:
        if (actual) out.push_back(what + "absent, got " + quoted(*actual, mask));
        break;
      case header_rule::op::equals: {
        const std::string want = rule.value.render(captures);
        if (!actual || *actual != want)
          out.push_back(what + quoted(want, mask) + ", got " + header_text(res, rule.name, mask));
        break;
      }
      case header_rule::op::contains: {
        const std::string want = rule.value.render(captures);
        if (!actual || actual->find(want) == std::string::npos)
          out.push_back(what + "to contain " + quoted(want, mask) + ", got " +
                        header_text(res, rule.name, mask));
        break;
      }
      case header_rule::op::matches:
        if (!actual || !rule.regex.search(*actual))
          out.push_back(what + "to match /" + rule.regex.source + "/, got " +
                        header_text(res, rule.name, mask));
        break;
    }
  }
}

void check_body(const expectation& e, const result& res, const std::map<std::string, std::string>& captures,
                const redactor& mask, std::vector<std::string>& out) {
  // Built only for a failing rule: masking and quoting the body cost more than the probe's parse.
  auto got = [&] {
    return ", got " + excerpt(res.body, mask) + " (" + std::to_string(res.body.size()) + " bytes)";
  };
  for (const auto& rule : e.body) {
    switch (rule.oper) {
      case body_rule::op::contains: {
        const std::string want = rule.value.render(captures);
        if (res.body.find(want) == std::string::npos)
          out.push_back("body: expected to contain " + quoted(want, mask) + got());
        break;
      }
      case body_rule::op::not_contains: {
        const std::string unwanted = rule.value.render(captures);
        if (auto at = res.body.find(unwanted); at != std::string::npos)
          out.push_back("body: expected not to contain " + quoted(unwanted, mask) + ", found it at byte " +
                        std::to_string(at));
        break;
      }
      case body_rule::op::matches:
        if (!rule.regex.search(res.body))
          out.push_back("body: expected to match /" + rule.regex.source + "/" + got());
        break;
      case body_rule::op::max_bytes:
        if (res.body.size() > rule.max_bytes)
          out.push_back("body: expected at most " + std::to_string(rule.max_bytes) + " bytes, got " +
                        std::to_string(res.body.size()) + " bytes");
        break;
    }
  }
}

}  // namespace watchpost::probes::detail
