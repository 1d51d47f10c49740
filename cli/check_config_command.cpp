// watchpost check-config FILE: validates a file without sending any traffic (exit 0 or 2).
// The kind of file is told by its top-level keys; each kind has one validator below.
#include <cstdio>

#include "cli_support.hpp"
#include "watchpost/agent/config.hpp"
#include "watchpost/common/config_file.hpp"
#include "watchpost/loadgen/plan.hpp"
#include "watchpost/loadgen/resolve.hpp"
#include "watchpost/probes/suite.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

struct file_kind {
  const char* key;   // top-level key that identifies the kind
  const char* name;  // for messages
  // Returns a one-line summary; throws config_error.
  std::string (*validate)(const config_file& file, const std::map<std::string, std::string>& vars);
};

std::string validate_suite(const config_file& file, const std::map<std::string, std::string>& vars) {
  const probes::suite s = probes::parse_suite(file, vars);
  return "suite '" + s.name + "', " + std::to_string(s.checks.size()) + " checks";
}

std::string validate_agent_config(const config_file& file, const std::map<std::string, std::string>&) {
  const agent::agent_config c = agent::load_config(file.path());
  return std::to_string(c.targets.size()) + " targets, listen " + c.listen_host + ":" +
         std::to_string(c.listen_port);
}

// The plan is resolved exactly as `watchpost load PLAN` resolves it (no flags), so what load
// rejects is rejected here, with the same messages.
std::string validate_load_plan(const config_file& file, const std::map<std::string, std::string>&) {
  const loadgen::load_plan plan = loadgen::parse_load_plan(file);
  loadgen::load_overrides none;
  // A plan without url: gets its URL on the command line (load --plan PLAN URL); any will do here.
  if (!plan.url) none.url = "http://localhost/";
  auto resolved = loadgen::resolve(plan, none);
  if (auto* errors = std::get_if<loadgen::resolve_errors>(&resolved))
    throw usage_error(*errors);  // every error at once, one line each
  const std::size_t mix = plan.requests.empty() ? 1 : plan.requests.size();
  return std::to_string(mix) + (mix == 1 ? " request" : " requests") + " in the mix, " +
         std::to_string(plan.thresholds.size()) + " thresholds";
}

// `check-config AGENT.yaml --shard i/N`: the targets that shard would probe, one per line.
void list_shard(const std::string& path, const agent::shard_spec& spec) {
  agent::agent_config config = agent::load_config(path);
  const auto selected = agent::keep_shard_targets(config, spec);
  std::printf("shard %u/%u: %zu of %zu targets\n", selected.shard.index, selected.shard.count,
              config.targets.size(), selected.all_targets);
  for (const auto& t : config.targets) std::printf("  %s\n", t.name.c_str());
}

// First match wins: a plan may have only a url, so its keys come last.
constexpr file_kind kinds[] = {
    {"checks", "smoke suite", validate_suite},
    {"targets", "agent config", validate_agent_config},
    {"requests", "load plan", validate_load_plan},
    {"url", "load plan", validate_load_plan},
};

int run_check_config(const args& argv) {
  po::options_description options("watchpost check-config FILE");
  options.add_options()("help,h", "show this help")("file", po::value<std::string>(),
                                                    "suite, load plan or agent config to validate")(
      "var", po::value<std::vector<std::string>>()->composing(),
      "variable NAME=VALUE for ${NAME} (repeatable)")(
      "shard", po::value<std::string>(),
      "i/N or auto/N (as agent --shard): also list the targets of that shard of an agent config");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (!parse_options(argv, options, positional, vm)) return exit_pass;  // --help was printed
  if (!vm.count("file")) throw usage_error("missing FILE (usage: watchpost check-config FILE)");
  const auto vars = var_options(strings(vm, "var"));
  const auto shard =
      vm.count("shard") ? std::optional(shard_option(vm["shard"].as<std::string>())) : std::nullopt;
  const std::string path = vm["file"].as<std::string>();
  const config_file file = config_file::load(path);
  if (file.root().IsMap()) {
    for (const auto& kind : kinds) {
      if (!file.root()[kind.key]) continue;
      if (shard && kind.validate != validate_agent_config)
        throw usage_error("--shard lists the targets of an agent config; " + path + " is a " + kind.name);
      const std::string summary = kind.validate(file, vars);
      std::printf("%s: ok (%s: %s)\n", path.c_str(), kind.name, summary.c_str());
      if (shard) list_shard(path, *shard);
      return exit_pass;
    }
  }
  std::string expected;
  for (const auto& kind : kinds)
    expected += std::string(expected.empty() ? "" : ", ") + "'" + kind.key + "' (" + kind.name + ")";
  file.fail(file.root(),
            "cannot tell what kind of file this is: expected a mapping with a top-level key " + expected);
}

const bool registered = register_command(
    {"check-config", run_check_config,
     "check-config FILE: validate a suite, load plan or agent config without sending traffic (exit 0/2)",
     60});

}  // namespace

}  // namespace watchpost::cli
