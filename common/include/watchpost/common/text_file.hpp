#pragma once
// Whole-file reads for configs and reports; each caller words its own error.
#include <optional>
#include <string>

namespace watchpost {

// The file's bytes, or nullopt when it cannot be opened.
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace watchpost
