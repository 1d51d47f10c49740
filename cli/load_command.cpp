// watchpost load URL: closed (-c) or open (--rate) model load, thresholds, JSON/HTML reports.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "cli_support.hpp"
#include "load_outputs.hpp"
#include "watchpost/exporters/load_console.hpp"
#include "watchpost/exporters/pushgateway.hpp"
#include "watchpost/loadgen/engine.hpp"
#include "watchpost/loadgen/plan.hpp"
#include "watchpost/loadgen/resolve.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

template <class T>
std::optional<T> flag(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? std::optional<T>(vm[name].as<T>()) : std::nullopt;
}

// The flags as overrides of the plan; resolve() checks them together with it.
loadgen::load_overrides load_overrides_of(const po::variables_map& vm, const std::string& url) {
  loadgen::load_overrides o;
  if (!url.empty()) o.url = url;
  o.connections = flag<std::uint64_t>(vm, "connections");
  o.threads = flag<unsigned>(vm, "threads");
  o.duration = flag<std::string>(vm, "duration");
  o.count = flag<std::uint64_t>(vm, "requests");
  o.rate = flag<double>(vm, "rate");
  o.stages = strings(vm, "stage");
  o.method = flag<std::string>(vm, "method");
  for (const auto& h : strings(vm, "header")) o.headers.push_back(header_option(h));
  o.body = flag<std::string>(vm, "body");
  o.timeout = flag<std::string>(vm, "timeout");
  o.connect_timeout = flag<std::string>(vm, "connect-timeout");
  o.insecure = vm.count("insecure") > 0;
  o.ca_file = flag<std::string>(vm, "ca-file");
  o.thresholds = strings(vm, "threshold");
  o.shard = flag<std::string>(vm, "shard");
  return o;
}

// --io, else $WATCHPOST_IO (so a whole test suite can run on either back end), else auto.
loadgen::io_choice io_option(const po::variables_map& vm) {
  const char* env = std::getenv("WATCHPOST_IO");
  const std::string text = vm.count("io") ? vm["io"].as<std::string>() : env && *env ? env : "auto";
  if (text == "auto") return loadgen::io_choice::automatic;
  if (text == "uring") return loadgen::io_choice::uring;
  if (text == "epoll") return loadgen::io_choice::epoll;
  throw usage_error("--io: auto, uring or epoll, not '" + text + "'");
}

// Whole-run thresholds that can already be judged mid-run (not rps or counts, which grow).
bool judged_mid_run(const loadgen::threshold& t) {
  return !t.window && t.metric != loadgen::threshold_metric::rps &&
         t.metric != loadgen::threshold_metric::requests;
}

int run_load_command(const args& argv) {
  po::options_description options("watchpost load URL|PLAN.yaml [options]");
  options.add_options()("help,h", "show this help")("url", po::value<std::string>(),
                                                    "http:// or https:// URL, or a YAML load plan")(
      "plan", po::value<std::string>(), "YAML load plan (flags override it)")(
      "connections,c", po::value<std::uint64_t>(), "connections (default 10)")(
      "threads,t", po::value<unsigned>(), "worker threads, one io_context each (default 1)")(
      "duration,d", po::value<std::string>(), "run length, e.g. 30s (default 10s unless -n)")(
      "requests,n", po::value<std::uint64_t>(), "stop after exactly N requests")(
      "rate,r", po::value<double>(), "open model: requests per second, latency from the intended send time")(
      "stage", po::value<std::vector<std::string>>()->composing(),
      "DUR:TARGET ramp step (rate if --rate, else connections); repeatable")(
      "method,X", po::value<std::string>(), "request method (default GET)")(
      "header,H", po::value<std::vector<std::string>>()->composing(),
      "request header 'Name: value' (repeatable)")("body", po::value<std::string>(), "request body")(
      "timeout", po::value<std::string>(), "per-request deadline (default 10s)")(
      "connect-timeout", po::value<std::string>()->default_value("5s"),
      "TCP connect + TLS handshake deadline")("insecure,k", "https: do not verify the server certificate")(
      "ca-file", po::value<std::string>(), "https: trust this PEM bundle instead of the system store")(
      "threshold", po::value<std::vector<std::string>>()->composing(),
      "e.g. 'p99<250ms', 'error_rate<0.1%', 'rps>9000', 'p99<250ms,window=10s'")(
      "abort-on-fail", "end the run as soon as a threshold fails")(
      "json", po::value<std::string>(), "write the JSON report (mergeable) to FILE")(
      "html", po::value<std::string>(), "write a self-contained HTML report to FILE")(
      "push-gateway", po::value<std::string>(),
      "push the run's metrics to this Prometheus Pushgateway (job watchpost_load)")(
      "shard", po::value<std::string>(), "i/N: run share i of N of the rate, connections and -n")(
      "io", po::value<std::string>(),
      "plain-http I/O back end: auto (io_uring where allowed, else epoll), uring or epoll; default "
      "$WATCHPOST_IO, else auto")("quiet,q", "no progress and no summary (reports and exit code only)");
  po::positional_options_description positional;
  positional.add("url", 1);
  po::variables_map vm;
  if (!parse_options(argv, options, positional, vm)) return exit_pass;  // --help was printed

  // The positional argument is a plan when it names a file rather than a URL (SPEC: URL|PLAN.yaml).
  std::string positional_text = vm.count("url") ? vm["url"].as<std::string>() : "";
  std::optional<std::string> plan_path;
  if (vm.count("plan")) plan_path = vm["plan"].as<std::string>();
  if (positional_text.find("://") == std::string::npos && std::filesystem::is_regular_file(positional_text)) {
    if (plan_path) throw usage_error("give the plan once: as the argument or with --plan");
    plan_path = std::exchange(positional_text, "");
  }
  loadgen::load_plan plan;
  if (plan_path) plan = loadgen::load_plan_file(*plan_path);
  auto resolved = loadgen::resolve(plan, load_overrides_of(vm, positional_text));
  if (auto* errors = std::get_if<loadgen::resolve_errors>(&resolved))
    throw usage_error(*errors);  // all at once
  loadgen::load_options& opt = std::get<loadgen::resolved_load>(resolved).options;
  opt.io = io_option(vm);
  const auto& thresholds = std::get<loadgen::resolved_load>(resolved).thresholds;
  const bool abort_on_fail = vm.count("abort-on-fail") > 0;
  const bool quiet = vm.count("quiet") > 0;
  std::optional<probes::url> push_gateway;
  if (vm.count("push-gateway")) push_gateway = push_gateway_option(vm["push-gateway"].as<std::string>());

  const auto& p = opt.parameters;

  const bool tty = isatty(STDERR_FILENO) == 1;
  std::vector<loadgen::threshold> mid_run;
  for (const auto& t : thresholds)
    if (judged_mid_run(t)) mid_run.push_back(t);
  std::string abort_reason;
  auto observer = [&](const loadgen::load_result& so_far, const loadgen::series_point& latest) {
    if (!quiet) {
      const std::string line = exporters::load_progress_line(so_far, latest, p.duration_seconds);
      if (tty)
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
      else
        std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
    }
    if (!abort_on_fail) return true;
    auto outcomes = loadgen::evaluate_latest_windows(thresholds, so_far);
    // A whole-run threshold with nothing measured yet fails only when the run ends with nothing.
    for (auto& o : loadgen::evaluate_thresholds(mid_run, so_far))
      if (o.measured) outcomes.push_back(std::move(o));
    for (const auto& o : outcomes) {
      if (!o.passed) {
        abort_reason = o.text + " (" + o.observed + ", " + o.where + ")";
        return false;
      }
    }
    return true;
  };

  const loadgen::load_result result = loadgen::run_load(opt, observer);
  if (tty && !quiet) std::fprintf(stderr, "\n");

  const auto outcomes = loadgen::evaluate_thresholds(thresholds, result);
  if (!quiet) {
    const std::string summary = exporters::load_summary(result, outcomes);
    std::fwrite(summary.data(), 1, summary.size(), stdout);
    std::fflush(stdout);
  }
  write_load_reports(vm, result, outcomes);

  // Metrics are a side channel: a gateway outage is reported but neither fails nor passes the run.
  if (push_gateway) {
    exporters::push_options push;
    push.tls = opt.tls;
    const auto pushed = exporters::push_load_run(*push_gateway, result, outcomes, push);
    if (!pushed.pushed)
      std::fprintf(stderr, "watchpost load: metrics not pushed: %s\n", pushed.error.c_str());
  }

  bool passed = thresholds_passed("load", outcomes);
  if (!abort_reason.empty()) {
    std::fprintf(stderr, "watchpost load: aborted: threshold failed: %s\n", abort_reason.c_str());
    passed = false;
  }
  return passed ? exit_pass : exit_failed;
}

const bool registered =
    register_command({"load", run_load_command,
                      "load URL: closed (-c) or open (--rate) model load with thresholds and reports", 30});

}  // namespace

}  // namespace watchpost::cli
