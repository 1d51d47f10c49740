#include "cli_support.hpp"

#include <iostream>

#include "watchpost/exporters/pushgateway.hpp"
#include "watchpost/probes/dns_resolver.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

nanoseconds duration_option(const std::string& flag, const std::string& text) {
  auto d = parse_duration(text);
  if (!d) throw usage_error(flag + " '" + text + "' is not a duration (use e.g. 250ms, 5s, 2m, 1h)");
  return *d;
}

probes::url url_argument(const std::string& text) {
  auto parsed = probes::parse_url(text);
  if (auto* error = std::get_if<probes::url_error>(&parsed)) throw usage_error(error->message);
  return std::get<probes::url>(std::move(parsed));
}

probes::url push_gateway_option(const std::string& text) {
  auto parsed = exporters::parse_gateway_url(text);
  if (auto* error = std::get_if<probes::url_error>(&parsed))
    throw usage_error("--push-gateway: " + error->message);
  return std::get<probes::url>(std::move(parsed));
}

std::string dns_servers_option(const std::string& text) {
  if (auto error = probes::dns_servers_error(text)) throw usage_error("--dns-server: " + *error);
  return text;
}

void add_http_version_options(po::options_description& options) {
  options.add_options()("http2",
                        "HTTP/2: offer h2,http/1.1 by ALPN on https (the server picks), h2c on http")(
      "http1.1", "HTTP/1.1 only (the default offers h2 by ALPN on https)");
}

std::optional<probes::http_version> http_version_option(const po::variables_map& vm) {
  const bool v2 = vm.count("http2") > 0, v1 = vm.count("http1.1") > 0;
  if (v2 && v1) throw usage_error("give --http2 or --http1.1, not both");
  if (v2) return probes::http_version::v2;
  if (v1) return probes::http_version::v1_1;
  return std::nullopt;
}

agent::shard_spec shard_option(const std::string& text) {
  auto parsed = agent::parse_shard(text);
  if (auto* error = std::get_if<std::string>(&parsed)) throw usage_error("--shard " + *error);
  auto spec = std::get<agent::shard_spec>(std::move(parsed));
  spec.origin = "--shard";
  return spec;
}

probes::header_field header_option(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    throw usage_error("header must look like 'Name: value' (got a value without a name)");
  std::string name = text.substr(0, colon);
  std::string value = text.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  if (name.find_first_of(" \t\r\n") != std::string::npos || value.find_first_of("\r\n") != std::string::npos)
    throw usage_error("header name '" + name + "' contains whitespace or line breaks");
  return {name, value};
}

std::vector<std::string> strings(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

std::map<std::string, std::string> var_options(const std::vector<std::string>& items) {
  std::map<std::string, std::string> vars;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw usage_error("--var expects NAME=VALUE, got '" + item + "'");
    vars[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return vars;
}

bool parse_options(const args& argv, const po::options_description& options,
                   const po::positional_options_description& positional, po::variables_map& vm) {
  try {
    // No guessing of abbreviated long options: --webhook-secret must never be taken for
    // --webhook-secret-env (a secret would then be echoed as a variable name).
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(argv).options(options).positional(positional).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw usage_error(e.what());
  }
  if (!vm.count("help")) return true;
  std::cout << options << "\n";
  return false;
}

}  // namespace watchpost::cli
