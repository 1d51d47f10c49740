#pragma once
// Escaping for text and attribute values (single- or double-quoted) in HTML pages we generate.
#include <string>
#include <string_view>

namespace watchpost {

std::string html_escape(std::string_view text);

}  // namespace watchpost
