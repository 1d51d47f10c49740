// watchpost agent CONFIG.yaml: the continuous monitoring daemon.

#include "cli_support.hpp"
#include "watchpost/agent/agent.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

int run_agent_command(const args& argv) {
  po::options_description options("watchpost agent CONFIG.yaml");
  options.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                    "agent config file (YAML)")(
      "log-format", po::value<std::string>()->default_value("text"),
      "text or json (one line per event on stderr)");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map vm;
  if (!parse_options(argv, options, positional, vm)) return exit_pass;  // --help was printed
  if (!vm.count("config")) throw usage_error("missing CONFIG.yaml (usage: watchpost agent CONFIG.yaml)");
  agent::run_options run;
  run.config_path = vm["config"].as<std::string>();
  const std::string format = vm["log-format"].as<std::string>();
  if (format == "json")
    run.logs = agent::log_format::json;
  else if (format != "text")
    throw usage_error("--log-format must be text or json");
  return agent::run_agent(run);
}

const bool registered =
    register_command({"agent", run_agent_command,
                      "agent CONFIG.yaml: probe targets forever, serve /metrics, fire SLO webhooks", 40});

}  // namespace

}  // namespace watchpost::cli
