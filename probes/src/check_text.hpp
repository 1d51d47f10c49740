#pragma once
// Text helpers shared by the expectation parser and the assertion kinds: operators, numbers and
// the quoted, masked excerpts failure messages show.
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "watchpost/probes/check.hpp"

namespace watchpost::probes::detail {

std::string trim(std::string_view s);
// Splits "OP rest" into the operator and the trimmed rest.
std::optional<std::pair<comparison::op, std::string>> split_operator(std::string_view text);
std::optional<double> to_double(std::string_view text);
// Numbers in messages: integers without a fraction, others with up to 6 significant digits.
std::string number_text(double v);
// A quoted, single-line excerpt of response text for failure messages. Secrets are masked
// first, so a cut or an escape can never leave part of one.
std::string excerpt(std::string_view raw, const redactor& mask, std::size_t limit = 120);
std::string quoted(std::string_view text, const redactor& mask);

}  // namespace watchpost::probes::detail
