#include "watchpost/agent/shard.hpp"

#include <charconv>
#include <cstdlib>

#include "watchpost/agent/config.hpp"
#include "watchpost/common/exit_error.hpp"

namespace watchpost::agent {

namespace {

// Digits only: from_chars alone would take "-1" for an int and leave "+1" unparsed.
std::optional<unsigned> decimal(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The StatefulSet ordinal: "watchpost-agent-2" -> 2.
std::optional<unsigned> ordinal_of(const char* name) {
  if (!name) return std::nullopt;
  const std::string_view text(name);
  const auto dash = text.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  return decimal(text.substr(dash + 1));
}

std::string quoted_env(const char* name, const char* value) {
  return std::string("$") + name + (value ? " '" + std::string(value) + "'" : " (unset)");
}

}  // namespace

std::variant<shard_spec, std::string> parse_shard(std::string_view text) {
  const std::string shown = "'" + std::string(text) + "'";
  const auto slash = text.find('/');
  const auto count = slash == std::string_view::npos ? std::nullopt : decimal(text.substr(slash + 1));
  const std::string_view index_text = text.substr(0, slash);
  const auto index = decimal(index_text);
  if (!count || (!index && index_text != "auto"))
    return shown + " is not i/N or auto/N (0-based index i below the count N, e.g. 0/3)";
  if (*count < 1 || *count > max_shard_count)
    return shown + ": the shard count must be 1.." + std::to_string(max_shard_count);
  if (index && *index >= *count)
    return shown + ": the shard index must be below the count (shards are numbered 0.." +
           std::to_string(*count - 1) + ")";
  return shard_spec{index, *count, {}};
}

shard_assignment resolve_shard(const shard_spec& spec, const char* pod_name, const char* hostname) {
  if (spec.index) return {*spec.index, spec.count};
  auto ordinal = ordinal_of(pod_name);
  if (!ordinal) ordinal = ordinal_of(hostname);
  const std::string what = spec.origin + " auto/" + std::to_string(spec.count) + ": ";
  if (!ordinal)
    throw usage_error(what + "neither " + quoted_env("POD_NAME", pod_name) + " nor " +
                      quoted_env("HOSTNAME", hostname) + " ends in -<ordinal> (a StatefulSet pod name)");
  if (*ordinal >= spec.count)
    throw usage_error(what + "the pod ordinal " + std::to_string(*ordinal) + " is not below the count " +
                      std::to_string(spec.count) + " (more replicas than shards?)");
  return {*ordinal, spec.count};
}

std::uint64_t fnv1a_64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The paper's code. Its doubles hold exact integers below 2^53 and IEEE-754 divides and
// multiplies are correctly rounded, so every conforming build (SSE2, AArch64) agrees.
unsigned jump_consistent_hash(std::uint64_t key, unsigned buckets) {
  std::int64_t b = -1, j = 0;
  while (j < static_cast<std::int64_t>(buckets)) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<std::int64_t>(static_cast<double>(b + 1) *
                                  (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<unsigned>(b);
}

unsigned shard_of(std::string_view name, unsigned count) {
  return jump_consistent_hash(fnv1a_64(name), count);
}

shard_selection keep_shard_targets(agent_config& config, const std::optional<shard_spec>& flag) {
  const shard_spec spec = flag ? *flag : config.shard.value_or(shard_spec{});
  const shard_selection selected{resolve_shard(spec, std::getenv("POD_NAME"), std::getenv("HOSTNAME")),
                                 config.targets.size()};
  std::erase_if(config.targets, [&](const target_config& t) {
    return shard_of(t.name, selected.shard.count) != selected.shard.index;
  });
  return selected;
}

}  // namespace watchpost::agent
