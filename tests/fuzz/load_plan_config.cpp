// Load plan loading from YAML text (config_file::parse + parse_load_plan): config_error or a plan.
#include "config_fuzzing.hpp"
#include "watchpost/loadgen/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  watchpost::fuzzing::expect_only_config_errors(data, size, [](const std::string& text) {
    watchpost::loadgen::parse_load_plan(watchpost::config_file::parse(text, "fuzz-plan.yaml"));
  });
  return 0;
}
