// `watchpost check-config PLAN` and `watchpost load` agree on every plan: the real binary, the
// same plan as a file and (where the flags can say it) as flags. Valid plans run for real,
// briefly, against the test target; invalid ones fail the same way in both commands.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "load_cli_support.hpp"

using watchpost::testing::command_result;
using watchpost::testing::load_target;
using watchpost::testing::load_temp_path;
using watchpost::testing::run_watchpost;

namespace {

struct plan_case {
  const char* name;
  const char* yaml;                // after the url: line
  std::vector<std::string> flags;  // the same plan as flags (empty: flags cannot say it)
  bool valid;
};

const plan_case cases[] = {
    {"closed-duration", "connections: 2\nduration: 300ms\n", {"-c", "2", "-d", "300ms"}, true},
    {"closed-count", "connections: 2\ncount: 20\n", {"-c", "2", "-n", "20"}, true},
    {"count-and-duration", "count: 10\nduration: 2s\n", {"-n", "10", "-d", "2s"}, true},
    {"open-duration", "rate: 50\nduration: 300ms\n", {"--rate", "50", "-d", "300ms"}, true},
    {"open-count-duration",
     "rate: 50\ncount: 5\nduration: 1s\n",
     {"--rate", "50", "-n", "5", "-d", "1s"},
     true},
    {"open-stages",
     "rate: 20\nstages: [ { duration: 300ms, target: 40 } ]\n",
     {"--rate", "20", "--stage", "300ms:40"},
     true},
    {"closed-stages", "stages: [ { duration: 300ms, target: 2 } ]\n", {"--stage", "300ms:2"}, true},
    {"mix",
     "duration: 300ms\nrequests: [ { path: /, weight: 2 }, { method: POST, path: /echo, body: x } ]\n",
     {},
     true},
    {"duration-with-stages",
     "duration: 1s\nstages: [ { duration: 1s, target: 2 } ]\n",
     {"-d", "1s", "--stage", "1s:2"},
     false},
    {"rate-with-count-only", "rate: 50\ncount: 10\n", {"--rate", "50", "-n", "10"}, false},
    {"zero-duration", "duration: 0s\n", {"-d", "0s"}, false},
    {"two-errors",
     "duration: 0s\nstages: [ { duration: 1s, target: 2 } ]\n",
     {"-d", "0s", "--stage", "1s:2"},
     false},
    {"zero-connections", "connections: 0\nduration: 1s\n", {"-c", "0", "-d", "1s"}, false},
    {"bad-stage", "stages: [ { duration: 1s, target: -1 } ]\n", {"--stage", "1s:-1"}, false},
    {"bad-threshold",
     "duration: 300ms\nthresholds: [ \"p99 about 3\" ]\n",
     {"-d", "300ms", "--threshold", "p99 about 3"},
     false},
};

std::string without_prefix(const std::string& text, const std::string& prefix) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
    out += line + "\n";
  }
  return out;
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("check-config and load agree on every plan, from the file and from flags") {
  const std::string url = load_target().http_url("/");
  for (const auto& c : cases) {
    INFO(c.name);
    const auto plan = load_temp_path(std::string(c.name) + ".yaml");
    std::ofstream(plan) << "url: " << url << "\n" << c.yaml;
    const command_result checked = run_watchpost({"check-config", plan});
    const command_result loaded = run_watchpost({"load", plan, "--quiet"});
    std::filesystem::remove(plan);
    INFO("check-config: " << checked.err << "load: " << loaded.err);
    CHECK(checked.exit_code == (c.valid ? 0 : 2));
    CHECK(loaded.exit_code == checked.exit_code);
    if (!c.valid) {
      // The same errors, word for word, each pointing at the file's line.
      CHECK(without_prefix(loaded.err, "watchpost load: ") ==
            without_prefix(checked.err, "watchpost check-config: "));
      CHECK_THAT(loaded.err, Catch::Matches("(watchpost load: [^\n]*\\.yaml:[0-9]+:[0-9]+: [^\n]*\n)+"));
    }
    if (c.flags.empty()) continue;
    std::vector<std::string> argv{"load", url, "--quiet"};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    const command_result flagged = run_watchpost(argv);
    INFO("load with flags: " << flagged.err);
    CHECK(flagged.exit_code == checked.exit_code);
    if (!c.valid) {
      // As many errors, naming flags rather than a file.
      CHECK(lines(flagged.err) == lines(loaded.err));
      CHECK_THAT(flagged.err, !Catch::Contains(".yaml"));
    }
  }
}
