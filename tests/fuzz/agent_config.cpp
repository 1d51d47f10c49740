// Agent config loading from YAML text (agent::parse_config): config_error or a config.
#include "config_fuzzing.hpp"
#include "watchpost/agent/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  watchpost::fuzzing::expect_only_config_errors(data, size, [](const std::string& text) {
    const auto config = watchpost::agent::parse_config(text, "fuzz-agent.yaml");
    if (config.state_dir.empty() || config.threads < 1) std::abort();
  });
  return 0;
}
