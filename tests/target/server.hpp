#pragma once
// The listeners and the HTTP/1.1 sessions of the test target (HTTP/2: h2_connection.hpp).
#include <exception>
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

// The co_spawn completion of every session: prints an escaped exception to stderr.
void report(std::exception_ptr e);

}  // namespace watchpost::test_target
