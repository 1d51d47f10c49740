// Agent config loading from YAML text (agent::parse_config): config_error or a config.
#include "config_fuzzing.hpp"
#include "watchpost/agent/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  watchpost::fuzzing::expect_only_config_errors(data, size, [](const std::string& text) {
    const auto config = watchpost::agent::parse_config(text, "fuzz-agent.yaml");
    if (config.state_dir.empty() || config.threads < 1) std::abort();
    // A shard: key that parsed is one resolve_shard and the hash can take as is.
    if (const auto& shard = config.shard;
        shard && (shard->count < 1 || shard->count > watchpost::agent::max_shard_count ||
                  (shard->index && *shard->index >= shard->count)))
      std::abort();
  });
  return 0;
}
