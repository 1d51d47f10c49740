#pragma once
// Shared by the config-loader fuzz targets: bad YAML must become a config_error that names a
// real position; any other exception escapes and libFuzzer reports it as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "watchpost/common/config_file.hpp"

namespace watchpost::fuzzing {

template <class Load>
void expect_only_config_errors(const std::uint8_t* data, std::size_t size, Load&& load) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    load(text);
  } catch (const config_error& e) {
    if (e.line() < 1 || e.column() < 1 || e.file().empty()) std::abort();
  }
}

}  // namespace watchpost::fuzzing
