#pragma once
// The long-running monitor: `watchpost agent CONFIG.yaml`.
#include <string>

#include "watchpost/agent/log.hpp"

namespace watchpost::agent {

struct run_options {
  std::string config_path;
  log_format logs = log_format::text;
};

// Loads the config (throws config_error), binds `listen`, prints "READY listen=HOST:PORT" on
// stdout, then probes until SIGTERM/SIGINT (drains in-flight probes, writes the SLO
// snapshot, returns 0). SIGHUP reloads the config; an invalid one is logged and ignored.
int run_agent(const run_options& options);

}  // namespace watchpost::agent
