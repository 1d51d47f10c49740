#pragma once
// Shared by the HTTP client test files: request and option builders, and one test target process.
#include <chrono>
#include <string>
#include <variant>

#include "process.hpp"
#include "watchpost/probes/http_types.hpp"

namespace watchpost::probes_test {

inline probes::request get(const std::string& text) {
  probes::request r;
  r.target = std::get<probes::url>(probes::parse_url(text));
  return r;
}

inline probes::client_options fast(std::chrono::milliseconds total = std::chrono::milliseconds(5000)) {
  probes::client_options o;
  o.total_timeout = total;
  o.connect_timeout = std::chrono::seconds(2);
  return o;
}

// One target process for every client test in the binary, started lazily.
inline testing::test_target& target() {
  static testing::test_target t;
  return t;
}

}  // namespace watchpost::probes_test
