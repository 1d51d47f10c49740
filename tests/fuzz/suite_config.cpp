// Suite loading from YAML text (config_file::parse + parse_suite): config_error or a suite.
#include "config_fuzzing.hpp"
#include "watchpost/probes/suite.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  watchpost::fuzzing::expect_only_config_errors(data, size, [](const std::string& text) {
    const auto file = watchpost::config_file::parse(text, "fuzz-suite.yaml");
    const auto suite = watchpost::probes::parse_suite(file, {{"BASE_URL", "http://127.0.0.1:8080"}});
    if (suite.checks.empty()) std::abort();  // a suite without checks is rejected at load time
  });
  return 0;
}
