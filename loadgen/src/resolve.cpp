#include "watchpost/loadgen/resolve.hpp"

#include <cmath>
#include <cstdio>

#include "watchpost/loadgen/compiled_plan.hpp"

namespace watchpost::loadgen {

namespace {

// One resolution: reads the plan and the flags setting by setting, collecting every error.
class resolver {
 public:
  resolver(const load_plan& plan, const load_overrides& flags) : plan_(plan), flags_(flags) {}

  std::variant<resolved_load, resolve_errors> run() {
    read_target();
    read_requests();
    read_sizes();
    read_run_length();
    read_model();
    read_thresholds();
    if (!errors_.empty()) return errors_;
    apply_model();
    if (!errors_.empty()) return errors_;
    describe();
    // The bytes are framed here too, so check-config rejects a request load could not send.
    auto compiled = compile_plan(out_.options);
    if (auto* error = std::get_if<plan_compile_error>(&compiled)) return resolve_errors{error->message};
    return std::move(out_);
  }

 private:
  // "plan.yaml:4:11: " before an error about a setting from the file.
  std::string at(std::string_view key) const {
    auto it = plan_.where.find(key);
    return it == plan_.where.end() ? "" : it->second + ": ";
  }
  void error(std::string message) { errors_.push_back(std::move(message)); }
  std::string stages_source() const { return flags_.stages.empty() ? at("stages") + "stages:" : "--stage"; }

  std::optional<nanoseconds> flag_duration(const std::string& flag, const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d) error(flag + " '" + *text + "' is not a duration (use e.g. 250ms, 5s, 2m, 1h)");
    return d;
  }

  void read_target() {
    const std::string text = flags_.url.value_or(plan_.url.value_or(""));
    if (text.empty())  // `url: ''` in the file points at the file; no URL anywhere names the usage
      return error((!flags_.url && plan_.url
                        ? at("url") + "url must not be empty"
                        : std::string("missing URL (usage: watchpost load URL [options])")));
    auto parsed = probes::parse_url(text);
    if (auto* e = std::get_if<probes::url_error>(&parsed))
      return error((flags_.url ? "" : at("url")) + e->message);
    opt().url = std::get<probes::url>(std::move(parsed));
    opt().tls.insecure = flags_.insecure || plan_.insecure.value_or(false);
    opt().tls.ca_file = flags_.ca_file.value_or(plan_.ca_file.value_or(""));
  }

  void read_requests() {
    opt().requests = plan_.requests;
    opt().secrets = plan_.secrets;
    if (!flags_.method && flags_.headers.empty() && !flags_.body) return;
    if (opt().requests.size() > 1)
      return error("-X/-H/--body apply to single-request runs, not to a plan's mix");
    planned_request r = opt().requests.empty() ? planned_request{} : opt().requests.front();
    if (r.target.empty() || opt().requests.empty()) r.target = opt().url.target;
    if (flags_.method) r.method = *flags_.method;
    if (r.method.empty() || r.method.find_first_of(" \t\r\n") != std::string::npos)
      error("method '" + r.method + "' is not a valid HTTP method");
    r.headers.insert(r.headers.end(), flags_.headers.begin(), flags_.headers.end());
    if (flags_.body) r.body = *flags_.body;
    opt().requests = {r};
  }

  // Ranges of the file's values were checked when it was read; the flags' are checked here.
  void read_sizes() {
    opt().threads = flags_.threads.value_or(plan_.threads.value_or(1));
    opt().connections = flags_.connections.value_or(plan_.connections.value_or(10));
    if (flags_.threads && (opt().threads == 0 || opt().threads > 1024)) error("-t must be 1..1024");
    if (flags_.connections && (opt().connections == 0 || opt().connections > 1'000'000))
      error("-c must be 1..1000000");
    opt().max_requests = flags_.count.value_or(plan_.count.value_or(0));
    if (flags_.count && opt().max_requests == 0) error("-n must be >= 1");
    if (flags_.shard) {
      if (auto shard = parse_shard(*flags_.shard))
        std::tie(opt().shard_index, opt().shard_count) = *shard;
      else
        error("--shard '" + *flags_.shard + "' must be i/N with 1 <= i <= N (e.g. 2/4)");
    }
  }

  void read_run_length() {
    if (auto d = flag_duration("--duration", flags_.duration)) {
      if (*d <= nanoseconds{0}) error("--duration must be > 0");
      duration_ = d;
    } else if (!flags_.duration && plan_.duration) {
      if (*plan_.duration <= nanoseconds{0}) error(at("duration") + "duration must be > 0");
      duration_ = plan_.duration;
    }
    if (auto t = flag_duration("--timeout", flags_.timeout))
      opt().timeout = *t;
    else if (!flags_.timeout && plan_.timeout)
      opt().timeout = *plan_.timeout;
    if (auto t = flag_duration("--connect-timeout", flags_.connect_timeout)) opt().connect_timeout = *t;
    stages_ = plan_.stages;
    if (!flags_.stages.empty()) {
      stages_.clear();
      for (const auto& s : flags_.stages) {
        if (auto st = parse_stage(s))
          stages_.push_back(*st);
        else
          error("--stage '" + s + "' must be DURATION:TARGET, e.g. 30s:1000");
      }
    }
    double staged_ns = 0;  // in double: a sum of nanoseconds past 292 years would overflow
    for (const auto& s : stages_) staged_ns += static_cast<double>(s.duration.count());
    if (staged_ns > 9.0e18) error(stages_source() + " add up to more than 285 years");
    const bool duration_given = flags_.duration || plan_.duration;
    if (!duration_given || stages_.empty()) return;
    // The stages are the run's length; a duration beside them would say something else.
    const std::string stages = flags_.stages.empty() ? "stages:" : "--stage";
    if (flags_.duration)
      error("--duration cannot be combined with " + stages + " (the stages set the run length)");
    else
      error(at("duration") + "duration: cannot be combined with " + stages +
            " (the stages set the run length)");
  }

  void read_model() {
    rate_ = flags_.rate ? flags_.rate : plan_.rate;
    if (flags_.rate && !(*flags_.rate > 0)) error("--rate must be > 0");
  }

  void read_thresholds() {
    texts_ = flags_.thresholds.empty() ? plan_.thresholds : flags_.thresholds;
    for (const auto& text : texts_) {
      auto parsed = parse_threshold(text);
      if (auto* e = std::get_if<threshold_error>(&parsed))
        error(e->message);
      else
        out_.thresholds.push_back(std::get<threshold>(std::move(parsed)));
    }
  }

  // The schedules and this shard's shares, from settings known to be valid one by one.
  void apply_model() {
    load_options& o = opt();
    if (duration_)
      o.duration = *duration_;
    else if (o.max_requests == 0)
      o.duration = std::chrono::seconds(10);
    nanoseconds staged_length{0};
    for (const auto& s : stages_) {
      staged_length += s.duration;
      peak_ = std::max(peak_, s.target);
    }
    if (!stages_.empty()) o.duration = staged_length;
    const double shard_factor = 1.0 / o.shard_count;
    if (rate_) {
      if (o.duration == nanoseconds{0}) {
        // -n (count:) alone does not bound an open-model run: the schedule needs an end.
        return error(flags_.rate ? "--rate needs -d (or --stage) to bound the run"
                                 : at("rate") + "rate: needs duration: or stages: to bound the run");
      }
      // Stages ramp the rate from the starting rate through each target.
      o.rate = stages_.empty() ? schedule::constant(*rate_, o.duration) : schedule::ramp(*rate_, stages_);
      o.rate = o.rate->scaled(shard_factor);
    } else if (!stages_.empty()) {
      // Closed model: the targets are connections, bounded as -c is.
      if (peak_ > 1'000'000) return error(stages_source() + " targets are connections here: 0..1000000");
      o.connection_ramp = schedule::ramp(0, stages_).scaled(shard_factor);
      o.connections = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(peak_)));
    }
    o.connections = std::max<std::uint64_t>(1, share_of(o.connections, o.shard_index, o.shard_count));
    if (o.max_requests) {
      o.max_requests = share_of(o.max_requests, o.shard_index, o.shard_count);
      if (o.max_requests == 0)
        error(flags_.count ? "-n is smaller than the number of shards"
                           : at("count") + "count is smaller than the number of shards (--shard)");
    }
    o.threads = static_cast<unsigned>(std::min<std::uint64_t>(o.threads, o.connections));
  }

  // What the reports echo as the run's parameters.
  void describe() {
    const load_options& o = opt();
    auto& p = opt().parameters;
    p.target = o.url.to_string();
    p.model = rate_ ? "open" : "closed";
    p.connections = o.connections;
    p.threads = o.threads;
    p.rate = rate_ ? (stages_.empty() ? *rate_ : std::max(*rate_, peak_)) * (1.0 / o.shard_count) : 0;
    p.duration_seconds = to_seconds(o.duration);
    p.max_requests = o.max_requests;
    p.shard_index = o.shard_index;
    p.shard_count = o.shard_count;
    p.thresholds = texts_;
  }

  load_options& opt() { return out_.options; }

  const load_plan& plan_;
  const load_overrides& flags_;
  resolve_errors errors_;
  resolved_load out_;
  std::optional<nanoseconds> duration_;
  std::vector<stage> stages_;
  std::optional<double> rate_;
  std::vector<std::string> texts_;
  double peak_ = 0;
};

}  // namespace

std::optional<std::pair<unsigned, unsigned>> parse_shard(const std::string& text) {
  unsigned i = 0, n = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i == 0 || i > n)
    return std::nullopt;
  return std::pair{i - 1, n};
}

std::variant<resolved_load, resolve_errors> resolve(const load_plan& plan, const load_overrides& overrides) {
  return resolver(plan, overrides).run();
}

}  // namespace watchpost::loadgen
