// watchpost load URL: closed (-c) or open (--rate) model load, thresholds, JSON/HTML reports.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli_support.hpp"
#include "load_outputs.hpp"
#include "watchpost/exporters/load_console.hpp"
#include "watchpost/exporters/pushgateway.hpp"
#include "watchpost/loadgen/engine.hpp"
#include "watchpost/loadgen/plan.hpp"

namespace watchpost::cli {

namespace po = boost::program_options;

namespace {

// "i/N" with 1 <= i <= N.
std::pair<unsigned, unsigned> shard_option(const std::string& text) {
  unsigned i = 0, n = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i == 0 || i > n)
    throw usage_error("--shard '" + text + "' must be i/N with 1 <= i <= N (e.g. 2/4)");
  return {i - 1, n};
}

// Whole-run thresholds that can already be judged mid-run (not rps or counts, which grow).
bool judged_mid_run(const loadgen::threshold& t) {
  return !t.window && t.metric != loadgen::threshold_metric::rps && t.metric != loadgen::threshold_metric::requests;
}

int run_load_command(const args& argv) {
  po::options_description options("watchpost load URL|PLAN.yaml [options]");
  options.add_options()
      ("help,h", "show this help")
      ("url", po::value<std::string>(), "http:// or https:// URL, or a YAML load plan")
      ("plan", po::value<std::string>(), "YAML load plan (flags override it)")
      ("connections,c", po::value<std::uint64_t>(), "connections (default 10)")
      ("threads,t", po::value<unsigned>(), "worker threads, one io_context each (default 1)")
      ("duration,d", po::value<std::string>(), "run length, e.g. 30s (default 10s unless -n)")
      ("requests,n", po::value<std::uint64_t>(), "stop after exactly N requests")
      ("rate,r", po::value<double>(), "open model: requests per second, latency from the intended send time")
      ("stage", po::value<std::vector<std::string>>()->composing(), "DUR:TARGET ramp step (rate if --rate, else connections); repeatable")
      ("method,X", po::value<std::string>(), "request method (default GET)")
      ("header,H", po::value<std::vector<std::string>>()->composing(), "request header 'Name: value' (repeatable)")
      ("body", po::value<std::string>(), "request body")
      ("timeout", po::value<std::string>(), "per-request deadline (default 10s)")
      ("connect-timeout", po::value<std::string>()->default_value("5s"), "TCP connect + TLS handshake deadline")
      ("insecure,k", "https: do not verify the server certificate")
      ("ca-file", po::value<std::string>(), "https: trust this PEM bundle instead of the system store")
      ("threshold", po::value<std::vector<std::string>>()->composing(), "e.g. 'p99<250ms', 'error_rate<0.1%', 'rps>9000', 'p99<250ms,window=10s'")
      ("abort-on-fail", "end the run as soon as a threshold fails")
      ("json", po::value<std::string>(), "write the JSON report (mergeable) to FILE")
      ("html", po::value<std::string>(), "write a self-contained HTML report to FILE")
      ("push-gateway", po::value<std::string>(), "push the run's metrics to this Prometheus Pushgateway (job watchpost_load)")
      ("shard", po::value<std::string>(), "i/N: run share i of N of the rate, connections and -n")
      ("quiet,q", "no progress and no summary (reports and exit code only)");
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
  std::string url_text = positional_text.empty() ? plan.url.value_or("") : positional_text;
  if (url_text.empty()) throw usage_error("missing URL (usage: watchpost load URL [options])");

  loadgen::load_options opt;
  opt.url = url_argument(url_text);
  opt.tls.insecure = vm.count("insecure") > 0 || plan.insecure.value_or(false);
  opt.tls.ca_file = vm.count("ca-file") ? vm["ca-file"].as<std::string>() : plan.ca_file.value_or("");
  opt.requests = plan.requests;
  opt.secrets = plan.secrets;
  if (vm.count("method") || vm.count("header") || vm.count("body")) {
    if (opt.requests.size() > 1) throw usage_error("-X/-H/--body apply to single-request runs, not to a plan's mix");
    loadgen::request_template r = opt.requests.empty() ? loadgen::request_template{} : opt.requests.front();
    if (r.target.empty() || opt.requests.empty()) r.target = opt.url.target;
    if (vm.count("method")) r.method = vm["method"].as<std::string>();
    if (r.method.empty() || r.method.find_first_of(" \t\r\n") != std::string::npos)
      throw usage_error("method '" + r.method + "' is not a valid HTTP method");
    if (vm.count("header"))
      for (const auto& h : vm["header"].as<std::vector<std::string>>()) r.headers.push_back(header_option(h));
    if (vm.count("body")) r.body = vm["body"].as<std::string>();
    opt.requests = {r};
  }

  opt.threads = vm.count("threads") ? vm["threads"].as<unsigned>() : plan.threads.value_or(1);
  opt.connections = vm.count("connections") ? vm["connections"].as<std::uint64_t>() : plan.connections.value_or(10);
  if (opt.threads == 0 || opt.threads > 1024) throw usage_error("-t must be 1..1024");
  if (opt.connections == 0 || opt.connections > 1'000'000) throw usage_error("-c must be 1..1000000");
  opt.max_requests = vm.count("requests") ? vm["requests"].as<std::uint64_t>() : plan.count.value_or(0);
  if (vm.count("requests") && opt.max_requests == 0) throw usage_error("-n must be >= 1");
  if (vm.count("duration")) opt.duration = duration_option("--duration", vm["duration"].as<std::string>());
  else if (plan.duration) opt.duration = *plan.duration;
  else if (opt.max_requests == 0) opt.duration = std::chrono::seconds(10);
  if (vm.count("duration") && opt.duration <= nanoseconds{0}) throw usage_error("--duration must be > 0");
  if (vm.count("timeout")) opt.timeout = duration_option("--timeout", vm["timeout"].as<std::string>());
  else if (plan.timeout) opt.timeout = *plan.timeout;
  opt.connect_timeout = duration_option("--connect-timeout", vm["connect-timeout"].as<std::string>());

  std::vector<loadgen::stage> stages = plan.stages;
  if (vm.count("stage")) {
    stages.clear();
    for (const auto& s : vm["stage"].as<std::vector<std::string>>()) {
      auto st = loadgen::parse_stage(s);
      if (!st) throw usage_error("--stage '" + s + "' must be DURATION:TARGET, e.g. 30s:1000");
      stages.push_back(*st);
    }
  }
  std::optional<double> rate = vm.count("rate") ? std::optional(vm["rate"].as<double>()) : plan.rate;
  if (rate && !(*rate > 0)) throw usage_error("--rate must be > 0");
  const bool open = rate.has_value();
  unsigned shard_index = 0, shard_count = 1;
  if (vm.count("shard")) std::tie(shard_index, shard_count) = shard_option(vm["shard"].as<std::string>());
  const double shard_factor = 1.0 / shard_count;

  nanoseconds staged_length{0};
  double peak = 0;
  for (const auto& s : stages) {
    staged_length += s.duration;
    peak = std::max(peak, s.target);
  }
  if (!stages.empty()) {
    if (vm.count("duration") || plan.duration) throw usage_error("--stage sets the run length; drop --duration");
    opt.duration = staged_length;
  }
  if (open) {
    // Stages ramp the rate from --rate (the starting rate) through each target.
    opt.rate = stages.empty() ? loadgen::schedule::constant(*rate, opt.duration)
                              : loadgen::schedule::ramp(*rate, stages);
    if (opt.duration == nanoseconds{0}) throw usage_error("--rate needs -d (or --stage) to bound the run");
    opt.rate = opt.rate->scaled(shard_factor);
  } else if (!stages.empty()) {
    opt.connection_ramp = loadgen::schedule::ramp(0, stages).scaled(shard_factor);
    opt.connections = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(peak)));
  }
  opt.connections = std::max<std::uint64_t>(1, loadgen::share_of(opt.connections, shard_index, shard_count));
  if (opt.max_requests) {
    opt.max_requests = loadgen::share_of(opt.max_requests, shard_index, shard_count);
    if (opt.max_requests == 0) throw usage_error("-n is smaller than the number of shards");
  }
  opt.threads = static_cast<unsigned>(std::min<std::uint64_t>(opt.threads, opt.connections));
  opt.shard_index = shard_index;
  opt.shard_count = shard_count;

  std::vector<std::string> threshold_texts = plan.thresholds;
  if (vm.count("threshold")) threshold_texts = vm["threshold"].as<std::vector<std::string>>();
  const auto thresholds = threshold_options(threshold_texts);
  const bool abort_on_fail = vm.count("abort-on-fail") > 0;
  const bool quiet = vm.count("quiet") > 0;
  std::optional<probes::url> push_gateway;
  if (vm.count("push-gateway")) push_gateway = push_gateway_option(vm["push-gateway"].as<std::string>());

  auto& p = opt.parameters;
  p.target = opt.url.to_string();
  p.model = open ? "open" : "closed";
  p.connections = opt.connections;
  p.threads = opt.threads;
  p.rate = open ? (stages.empty() ? *rate : std::max(*rate, peak)) * shard_factor : 0;
  p.duration_seconds = to_seconds(opt.duration);
  p.max_requests = opt.max_requests;
  p.shard_index = shard_index;
  p.shard_count = shard_count;
  p.thresholds = threshold_texts;

  const bool tty = isatty(STDERR_FILENO) == 1;
  std::vector<loadgen::threshold> mid_run;
  for (const auto& t : thresholds)
    if (judged_mid_run(t)) mid_run.push_back(t);
  std::string abort_reason;
  auto observer = [&](const loadgen::load_result& so_far, const loadgen::series_point& latest) {
    if (!quiet) {
      const std::string line = exporters::load_progress_line(so_far, latest, p.duration_seconds);
      if (tty) std::fprintf(stderr, "\r\033[K%s", line.c_str());
      else std::fprintf(stderr, "%s\n", line.c_str());
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
    if (!pushed.pushed) std::fprintf(stderr, "watchpost load: metrics not pushed: %s\n", pushed.error.c_str());
  }

  bool passed = thresholds_passed("load", outcomes);
  if (!abort_reason.empty()) {
    std::fprintf(stderr, "watchpost load: aborted: threshold failed: %s\n", abort_reason.c_str());
    passed = false;
  }
  return passed ? exit_pass : exit_failed;
}

const bool registered = register_command(
    {"load", run_load_command, "load URL: closed (-c) or open (--rate) model load with thresholds and reports", 30});

}  // namespace

}  // namespace watchpost::cli
