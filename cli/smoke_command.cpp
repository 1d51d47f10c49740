// watchpost smoke SUITE.yaml | --preset deploy URL: the post-deploy CI gate.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "cli_support.hpp"
#include "watchpost/exporters/junit.hpp"
#include "watchpost/exporters/pushgateway.hpp"
#include "watchpost/exporters/suite_report.hpp"
#include "watchpost/exporters/webhook.hpp"
#include "watchpost/probes/preset.hpp"
#include "watchpost/probes/suite.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

std::string new_run_id() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<std::uint64_t>(monotonic_clock::now().time_since_epoch().count()));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// Writes a report; false, after one line on stderr, when it cannot. Not an exception: the
// Pushgateway push and the failure webhook must still go out (the exit code then says 3).
bool write_report(const std::string& flag, const std::string& path, const std::string& content,
                  const probes::redactor& redact) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (out.flush()) return true;
  const std::string reason = errno ? std::strerror(errno) : "write failed";
  const std::string line =
      redact("watchpost smoke: " + flag + ": cannot write '" + path + "': " + reason + "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
  return false;
}

probes::suite preset_suite(const po::variables_map& vm, const std::string& name, const std::string& base) {
  if (name != "deploy") throw usage_error("unknown preset '" + name + "' (available: deploy)");
  probes::deploy_preset_options o;
  if (vm.count("health-path")) o.health_path = vm["health-path"].as<std::string>();
  if (vm.count("admin-path")) o.admin_paths = strings(vm, "admin-path");
  if (vm.count("api-path")) o.api_path = vm["api-path"].as<std::string>();
  if (vm.count("http-url")) o.http_url = vm["http-url"].as<std::string>();
  o.min_cert_days = vm["min-cert-days"].as<int>();
  for (const auto& list : strings(vm, "skip")) {
    std::stringstream parts(list);
    for (std::string part; std::getline(parts, part, ',');)
      if (!part.empty()) o.skip.insert(part);
  }
  for (const auto* path : {&o.health_path, &o.api_path})
    if (!path->starts_with("/")) throw usage_error("paths must start with '/', got '" + *path + "'");
  probes::suite s = probes::deploy_preset(base, o);
  s.timeout = duration_option("--timeout", vm["timeout"].as<std::string>());
  return s;
}

// Failure notification: the exit code still reports the failure whatever happens here.
void notify(const exporters::webhook_endpoint& endpoint, const exporters::suite_run& run,
            const probes::redactor& redact, const probes::client_options& client) {
  exporters::retry_policy policy;
  policy.max_attempts = 4;
  policy.initial_backoff = std::chrono::milliseconds(250);
  policy.max_backoff = std::chrono::seconds(2);
  policy.max_retry_after =
      std::chrono::seconds(10);  // a CI job must not sit out a receiver's long Retry-After
  const auto tls = endpoint.url.tls ? probes::make_tls_context(client.tls) : nullptr;
  const auto outcome = exporters::deliver_webhook_now(
      endpoint, run.run_id, exporters::suite_failure_summary_json(run, redact), policy, tls);
  const std::string line =
      outcome.delivered ? "watchpost smoke: failure webhook delivered (" + std::to_string(outcome.attempts) +
                              " attempt(s))\n"
                        : "watchpost smoke: failure webhook not delivered after " +
                              std::to_string(outcome.attempts) + " attempt(s): " +
                              (outcome.last_error.empty() ? "HTTP " + std::to_string(outcome.last_status)
                                                          : outcome.last_error) +
                              "\n";
  const std::string safe = redact(line);
  std::fwrite(safe.data(), 1, safe.size(), stderr);
}

int run_smoke(const args& argv) {
  po::options_description options(
      "watchpost smoke SUITE.yaml [options] | watchpost smoke --preset deploy URL [options]");
  options.add_options()("help,h", "show this help")("input", po::value<std::string>(),
                                                    "suite file (or the URL with --preset)")(
      "base-url", po::value<std::vector<std::string>>()->composing(),
      "target base URL (repeatable: targets run concurrently)")(
      "var", po::value<std::vector<std::string>>()->composing(),
      "variable NAME=VALUE for ${NAME} (repeatable)")(
      "wait-ready", po::value<std::string>(),
      "poll the first check until the target answers, up to this long")("json", po::value<std::string>(),
                                                                        "write the JSON report to this file")(
      "junit", po::value<std::string>(), "write a JUnit XML report to this file")(
      "insecure,k", "do not verify server certificates")("ca-file", po::value<std::string>(),
                                                         "trust this PEM bundle instead of the system store")(
      "dns-server", po::value<std::string>(), dns_server_help)("preset", po::value<std::string>(),
                                                               "built-in suite: deploy")(
      "timeout", po::value<std::string>()->default_value("5s"), "per-check deadline for presets")(
      "http-url", po::value<std::string>(),
      "deploy preset: the plain-HTTP listener (default: same host, port 80)")(
      "skip", po::value<std::vector<std::string>>()->composing(),
      "deploy preset: parts to skip (health,admin,cors,redirect,hsts,tls,html)")(
      "health-path", po::value<std::string>(), "deploy preset: health endpoint (default /health)")(
      "admin-path", po::value<std::vector<std::string>>()->composing(),
      "deploy preset: admin endpoint (repeatable, default /admin)")(
      "api-path", po::value<std::string>(),
      "deploy preset: API path for the CORS preflight (default /api/info)")(
      "min-cert-days", po::value<int>()->default_value(14),
      "deploy preset: minimum days of certificate validity")(
      "push-gateway", po::value<std::string>(),
      "push the run's metrics to this Prometheus Pushgateway (job watchpost_smoke; --insecure and --ca-file "
      "apply)")("on-fail-webhook", po::value<std::string>(),
                "POST a signed JSON summary here when the suite fails")(
      "webhook-secret-env", po::value<std::string>(),
      "environment variable holding the webhook HMAC secret (preferred)")
      // Spelled out: without it, option-prefix guessing read "--webhook-secret VALUE" as the
      // name of an environment variable and printed the secret in the error.
      ("webhook-secret", po::value<std::string>(),
       "the webhook HMAC secret itself (visible to other processes in argv)");
  add_http_version_options(options);
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map vm;
  if (!parse_options(argv, options, positional, vm)) return exit_pass;  // --help was printed
  if (!vm.count("input"))
    throw usage_error(
        "missing suite file (usage: watchpost smoke SUITE.yaml [--base-url URL] | --preset deploy URL)");
  const std::string input = vm["input"].as<std::string>();
  std::vector<std::string> targets = strings(vm, "base-url");
  for (const auto& t : targets) url_argument(t);  // validates, one-line usage error

  probes::suite suite;
  if (vm.count("preset")) {
    if (targets.empty()) targets.push_back(input);
    url_argument(input);
    suite = preset_suite(vm, vm["preset"].as<std::string>(), targets.front());
  } else {
    suite = probes::load_suite(input, var_options(strings(vm, "var")));
    if (targets.empty() && suite.base_url.empty())
      throw usage_error(input + ": no base URL: set base_url in the suite or pass --base-url");
  }
  if (targets.empty()) targets.push_back(suite.base_url);
  // The flags replace the suite's http_version; a check's own http_version still wins.
  if (const auto version = http_version_option(vm)) suite.version = *version;

  // Validated before any traffic, so a typo is exit 2 rather than a lost notification. Messages
  // name the options, never a secret's value.
  std::optional<exporters::webhook_endpoint> webhook;
  const bool secret_given = vm.count("webhook-secret") > 0,
             secret_env_given = vm.count("webhook-secret-env") > 0;
  if (secret_given && secret_env_given)
    throw usage_error("give --webhook-secret or --webhook-secret-env, not both");
  if (vm.count("on-fail-webhook")) {
    webhook.emplace();
    webhook->url = url_argument(vm["on-fail-webhook"].as<std::string>());
    if (secret_env_given) {
      const std::string name = vm["webhook-secret-env"].as<std::string>();
      const char* secret = std::getenv(name.c_str());
      if (!secret || !*secret)
        throw usage_error("--webhook-secret-env: environment variable '" + name + "' is not set");
      webhook->secret = secret;
    } else if (secret_given) {
      webhook->secret = vm["webhook-secret"].as<std::string>();
      if (webhook->secret.empty()) throw usage_error("--webhook-secret: empty secret");
    }
    suite.secrets->add(webhook->secret);
  } else if (secret_given || secret_env_given) {
    throw usage_error(std::string(secret_given ? "--webhook-secret" : "--webhook-secret-env") +
                      " needs --on-fail-webhook");
  }

  std::optional<probes::url> push_gateway;
  if (vm.count("push-gateway")) push_gateway = push_gateway_option(vm["push-gateway"].as<std::string>());

  probes::client_options client;
  client.tls.insecure = vm.count("insecure") > 0;
  if (vm.count("ca-file")) client.tls.ca_file = vm["ca-file"].as<std::string>();
  if (vm.count("dns-server")) client.dns_servers = dns_servers_option(vm["dns-server"].as<std::string>());
  std::optional<nanoseconds> wait;
  if (vm.count("wait-ready")) wait = duration_option("--wait-ready", vm["wait-ready"].as<std::string>());

  const auto results = probes::run_suite_on_targets(suite, targets, client, wait);
  exporters::suite_run run{suite.name, new_run_id(), {}};
  for (std::size_t i = 0; i < targets.size(); ++i) run.targets.push_back({targets[i], results[i]});

  const probes::redactor& redact = *suite.secrets;
  const std::string console = exporters::suite_console(run, redact);
  std::fwrite(console.data(), 1, console.size(), stdout);
  std::fflush(stdout);
  bool reports_written = true;
  if (vm.count("json"))
    reports_written &=
        write_report("--json", vm["json"].as<std::string>(), exporters::suite_json(run, redact), redact);
  if (vm.count("junit"))
    reports_written &=
        write_report("--junit", vm["junit"].as<std::string>(), exporters::suite_junit(run, redact), redact);

  // Metrics are a side channel: a gateway outage is reported but neither fails nor passes the gate.
  if (push_gateway) {
    exporters::push_options push;
    push.tls = client.tls;
    const auto pushed = exporters::push_suite_run(*push_gateway, run, redact, push);
    if (!pushed.pushed) {
      const std::string line = redact("watchpost smoke: metrics not pushed: " + pushed.error + "\n");
      std::fwrite(line.data(), 1, line.size(), stderr);
    }
  }
  if (webhook && !run.passed()) notify(*webhook, run, redact, client);
  if (run.any_not_ready()) throw cannot_run("a target never became ready within --wait-ready");
  // A gate whose report is missing did not do its whole job, whatever the verdict (printed above).
  if (!reports_written) return exit_could_not_run;
  return run.passed() ? exit_pass : exit_failed;
}

const bool registered =
    register_command({"smoke", run_smoke,
                      "smoke SUITE.yaml | --preset deploy URL: post-deploy checks, exit 1 on failure", 20});

}  // namespace

}  // namespace watchpost::cli
