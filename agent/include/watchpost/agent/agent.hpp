#pragma once
// The long-running monitor: `watchpost agent CONFIG.yaml`.
#include <optional>
#include <string>

#include "watchpost/agent/log.hpp"
#include "watchpost/agent/shard.hpp"

namespace watchpost::agent {

struct run_options {
  std::string config_path;
  log_format logs = log_format::text;
  std::optional<shard_spec> shard;  // --shard: wins over the config's shard:, on reloads too
};

// Loads the config (throws config_error), binds `listen`, prints "READY listen=HOST:PORT" on
// stdout, then probes until SIGTERM/SIGINT (drains in-flight probes, writes the SLO
// snapshot, returns 0). SIGHUP reloads the config; an invalid one is logged and ignored. Only the
// targets of the agent's shard are probed, shown and exported; a reload reassigns them.
int run_agent(const run_options& options);

}  // namespace watchpost::agent
