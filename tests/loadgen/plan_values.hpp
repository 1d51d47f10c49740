#pragma once
// Plans from YAML text, resolved and compiled without I/O, for the resolve and compiled_plan tests.
#include <catch2/catch.hpp>
#include <string>

#include "watchpost/common/config_file.hpp"
#include "watchpost/loadgen/compiled_plan.hpp"
#include "watchpost/loadgen/resolve.hpp"

namespace watchpost::testing {

inline loadgen::load_plan plan_of(const std::string& yaml) {
  return loadgen::parse_load_plan(config_file::parse(yaml, "plan.yaml"));
}

inline loadgen::resolve_errors resolve_errors_of(const std::string& yaml,
                                                 const loadgen::load_overrides& flags = {}) {
  auto r = loadgen::resolve(plan_of(yaml), flags);
  REQUIRE(std::holds_alternative<loadgen::resolve_errors>(r));
  return std::get<loadgen::resolve_errors>(r);
}

inline loadgen::resolved_load resolved_of(const std::string& yaml,
                                          const loadgen::load_overrides& flags = {}) {
  auto r = loadgen::resolve(plan_of(yaml), flags);
  if (auto* errors = std::get_if<loadgen::resolve_errors>(&r)) FAIL(errors->front());
  return std::get<loadgen::resolved_load>(std::move(r));
}

inline loadgen::compiled_plan compiled_of(const std::string& yaml) {
  auto c = loadgen::compile_plan(resolved_of(yaml).options);
  REQUIRE(std::holds_alternative<loadgen::compiled_plan>(c));
  return std::get<loadgen::compiled_plan>(std::move(c));
}

}  // namespace watchpost::testing
