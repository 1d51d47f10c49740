#include "watchpost/common/config_file.hpp"

#include <catch2/catch.hpp>

// Found by fuzz_load_plan_config: a complex key ("? [a]: 1") made finish() throw yaml-cpp's
// TypedBadConversion instead of a config_error (tests/fuzz/corpus/load_plan_config/complex_key).
TEST_CASE("a mapping key that is not a plain name is a config error with its position") {
  const auto file = watchpost::config_file::parse("url: http://x\n? [a, b]\n: 1\n", "plan.yaml");
  auto m = file.mapping(file.root(), "load plan");
  m.optional("url");
  CHECK_THROWS_MATCHES(m.finish(), watchpost::config_error,
                       Catch::Message("plan.yaml:2:3: keys of load plan must be plain names"));
}
