#pragma once
// JUnit XML as GitLab, Jenkins and GitHub reporters read it: one <testsuite> per target,
// one <testcase> per check, <failure message="expected vs actual">, <skipped>.
#include <string>
#include <string_view>

#include "watchpost/exporters/suite_report.hpp"

namespace watchpost::exporters {

std::string suite_junit(const suite_run& run, const probes::redactor& redact);

// Escapes &, <, >, " and ' and drops characters XML 1.0 forbids (after UTF-8 repair).
std::string xml_escape(std::string_view text);

}  // namespace watchpost::exporters
