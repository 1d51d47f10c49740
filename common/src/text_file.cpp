#include "watchpost/common/text_file.hpp"

#include <fstream>
#include <sstream>

namespace watchpost {

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

}  // namespace watchpost
