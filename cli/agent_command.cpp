// watchpost agent CONFIG.yaml: the continuous monitoring daemon.

#include "cli_support.hpp"
#include "watchpost/agent/agent.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

int run_agent_command(const args& argv) {
  po::options_description options("watchpost agent CONFIG.yaml [--shard i/N]");
  options.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                    "agent config file (YAML)")(
      "log-format", po::value<std::string>()->default_value("text"),
      "text or json (one line per event on stderr)")(
      "shard", po::value<std::string>(),
      "i/N: probe only shard i (0-based) of N of the targets, by a hash of their names; auto/N takes i "
      "from the ordinal ending $POD_NAME or $HOSTNAME (a StatefulSet pod); wins over the config's shard:");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map vm;
  if (!parse_options(argv, options, positional, vm)) return exit_pass;  // --help was printed
  if (!vm.count("config")) throw usage_error("missing CONFIG.yaml (usage: watchpost agent CONFIG.yaml)");
  agent::run_options run;
  run.config_path = vm["config"].as<std::string>();
  if (vm.count("shard")) run.shard = shard_option(vm["shard"].as<std::string>());
  const std::string format = vm["log-format"].as<std::string>();
  if (format == "json")
    run.logs = agent::log_format::json;
  else if (format != "text")
    throw usage_error("--log-format must be text or json");
  return agent::run_agent(run);
}

const bool registered = register_command(
    {"agent", run_agent_command,
     "agent CONFIG.yaml [--shard i/N]: probe targets forever, serve /metrics, fire SLO webhooks", 40});

}  // namespace

}  // namespace watchpost::cli
