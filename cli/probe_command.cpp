// watchpost probe URL: one request, its phase timings, and on failure its kind.
#include <cstdio>

#include "cli_support.hpp"
#include "watchpost/exporters/probe_report.hpp"
#include "watchpost/probes/http_client.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

int run_probe(const args& argv) {
  po::options_description options("watchpost probe URL");
  options.add_options()("help,h", "show this help")("url", po::value<std::string>(),
                                                    "http:// or https:// URL")(
      "method,X", po::value<std::string>()->default_value("GET"), "request method")(
      "header,H", po::value<std::vector<std::string>>()->composing(),
      "request header 'Name: value' (repeatable)")("data,d", po::value<std::string>(), "request body")(
      "timeout", po::value<std::string>()->default_value("10s"), "total deadline")(
      "connect-timeout", po::value<std::string>()->default_value("5s"), "resolve + TCP connect deadline")(
      "max-redirects", po::value<int>()->default_value(0), "follow up to N redirects")(
      "max-body", po::value<std::size_t>()->default_value(16 * 1024 * 1024), "response body cap in bytes")(
      "insecure,k", "do not verify the server certificate")(
      "ca-file", po::value<std::string>(), "trust this PEM bundle instead of the system store")(
      "dns-server", po::value<std::string>(), dns_server_help)("json", "print the result as JSON");
  add_http_version_options(options);
  po::positional_options_description positional;
  positional.add("url", 1);
  po::variables_map vm;
  if (!parse_options(argv, options, positional, vm)) return exit_pass;  // --help was printed
  if (!vm.count("url")) throw usage_error("missing URL (usage: watchpost probe URL [options])");

  probes::request req;
  req.target = url_argument(vm["url"].as<std::string>());
  req.method = vm["method"].as<std::string>();
  if (req.method.empty() || req.method.find_first_of(" \t\r\n") != std::string::npos)
    throw usage_error("method '" + req.method + "' is not a valid HTTP method");
  if (vm.count("header"))
    for (const auto& h : vm["header"].as<std::vector<std::string>>()) req.headers.push_back(header_option(h));
  if (vm.count("data")) req.body = vm["data"].as<std::string>();

  probes::client_options client;
  client.total_timeout = duration_option("--timeout", vm["timeout"].as<std::string>());
  client.connect_timeout = duration_option("--connect-timeout", vm["connect-timeout"].as<std::string>());
  client.max_redirects = vm["max-redirects"].as<int>();
  if (client.max_redirects < 0) throw usage_error("--max-redirects must be >= 0");
  client.max_body_bytes = vm["max-body"].as<std::size_t>();
  client.tls.insecure = vm.count("insecure") > 0;
  if (vm.count("ca-file")) client.tls.ca_file = vm["ca-file"].as<std::string>();
  client.keep_alive = false;
  client.version = http_version_option(vm).value_or(probes::http_version::auto_);
  if (vm.count("dns-server")) client.dns_servers = dns_servers_option(vm["dns-server"].as<std::string>());

  probes::result res = probes::fetch(req, client);
  // A probe without expectations passes on any non-error status, like `curl --fail`.
  if (res.ok() && res.status >= 400) {
    res.failure = probes::failure_kind::status;
    res.error = "HTTP status " + std::to_string(res.status);
  }
  const std::string report =
      vm.count("json") ? exporters::probe_json(req, res) : exporters::probe_text(req, res);
  std::fwrite(report.data(), 1, report.size(), stdout);
  return res.ok() ? exit_pass : exit_failed;
}

const bool registered =
    register_command({"probe", run_probe, "probe URL: one request, its phase timings and failure kind", 10});

}  // namespace

}  // namespace watchpost::cli
