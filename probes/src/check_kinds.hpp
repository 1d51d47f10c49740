#pragma once
// The assertion kinds evaluate() runs, one file each; each appends its failure messages to `out`.
#include <map>
#include <string>
#include <vector>

#include "watchpost/probes/check.hpp"

namespace watchpost::probes::detail {

// check_text_rules.cpp: headers and body.
void check_headers(const expectation& e, const result& res,
                   const std::map<std::string, std::string>& captures, const redactor& mask,
                   std::vector<std::string>& out);
void check_body(const expectation& e, const result& res, const std::map<std::string, std::string>& captures,
                const redactor& mask, std::vector<std::string>& out);
// check_json.cpp
void check_json(const expectation& e, const result& res, const std::map<std::string, std::string>& captures,
                const redactor& mask, std::vector<std::string>& out);
// check_tls.cpp
void check_tls(const tls_rule& rule, const result& res, std::vector<std::string>& out);

}  // namespace watchpost::probes::detail
