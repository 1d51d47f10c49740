#pragma once
// The listeners and sessions of the test target: the only coroutine code.
#include <string>

#include "config.hpp"

namespace watchpost::test_target {

struct tls_material {
  std::string cert_pem;
  std::string key_pem;
  std::string cert_path;  // printed in the READY line
};

// Binds, prints the READY line, serves until SIGINT/SIGTERM. `tls` is null with --no-tls.
// Returns the exit code; throws on setup errors (bind failures, bad key material).
int run(const config& cfg, const tls_material* tls);

}  // namespace watchpost::test_target
