// Load plan loading from YAML text (config_file::parse + parse_load_plan): config_error or a plan.
// A plan that reads is then resolved as `check-config` resolves it: no exception, and every
// error points at the file (no flags were given, so none may name one).
#include <cstdlib>

#include "config_fuzzing.hpp"
#include "watchpost/loadgen/plan.hpp"
#include "watchpost/loadgen/resolve.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  watchpost::fuzzing::expect_only_config_errors(data, size, [](const std::string& text) {
    const auto plan =
        watchpost::loadgen::parse_load_plan(watchpost::config_file::parse(text, "fuzz-plan.yaml"));
    watchpost::loadgen::load_overrides none;
    if (!plan.url) none.url = "http://localhost/";
    const auto resolved = watchpost::loadgen::resolve(plan, none);
    if (const auto* errors = std::get_if<watchpost::loadgen::resolve_errors>(&resolved))
      for (const auto& e : *errors)
        if (e.rfind("fuzz-plan.yaml:", 0) != 0) std::abort();
  });
  return 0;
}
