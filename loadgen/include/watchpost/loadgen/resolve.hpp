#pragma once
// The one place a load run's settings are decided: the plan file (plan.hpp) with the command
// line's flags layered over it, checked as a whole. `watchpost load` runs what this returns and
// `watchpost check-config` reports its errors, so the two accept the same plans.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "watchpost/loadgen/engine.hpp"
#include "watchpost/loadgen/plan.hpp"
#include "watchpost/loadgen/threshold.hpp"

namespace watchpost::loadgen {

// The flags of `watchpost load`, each set only when given. Texts are parsed here, so that a bad
// flag is one error among all the others rather than the first and only one.
struct load_overrides {
  std::optional<std::string> url;
  std::optional<std::uint64_t> connections;  // -c
  std::optional<unsigned> threads;           // -t
  std::optional<std::string> duration;       // -d
  std::optional<std::uint64_t> count;        // -n
  std::optional<double> rate;                // --rate
  std::vector<std::string> stages;           // --stage DUR:TARGET, repeatable (empty: not given)
  std::optional<std::string> method;         // -X
  probes::header_list headers;               // -H, already split into name and value
  std::optional<std::string> body;           // --body
  std::optional<std::string> timeout;        // --timeout
  std::optional<std::string> connect_timeout;
  bool insecure = false;  // -k
  std::optional<std::string> ca_file;
  std::vector<std::string> thresholds;  // --threshold, repeatable (empty: not given)
  std::optional<std::string> shard;     // --shard i/N
};

struct resolved_load {
  load_options options;               // what run_load runs, shard shares applied
  std::vector<threshold> thresholds;  // parsed; options.parameters.thresholds has their texts
};

// Every error, one line each: "plan.yaml:4:11: ..." for a setting from the file, a message
// naming the flag for one from the command line.
using resolve_errors = std::vector<std::string>;
std::variant<resolved_load, resolve_errors> resolve(const load_plan& plan, const load_overrides& overrides);

// "i/N" with 1 <= i <= N, as the zero-based index and N; nullopt when malformed.
std::optional<std::pair<unsigned, unsigned>> parse_shard(const std::string& text);

}  // namespace watchpost::loadgen
