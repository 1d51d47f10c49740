#pragma once
// Agent sharding across replicas with no coordination protocol (SPEC "Beyond one machine"): each
// target belongs to exactly one of N shards, chosen by a hash of its name that every build and
// every replica computes alike, so N agents over one config probe every target exactly once.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace watchpost::agent {

// More shards than this is a typo (0/100000), not a fleet: each shard is a pod.
inline constexpr unsigned max_shard_count = 1000;

// `--shard i/N` or `shard: "i/N"`: 0-based i < N, or auto/N (i from the StatefulSet ordinal).
// The default, 0/1, is every target.
struct shard_spec {
  std::optional<unsigned> index = 0;  // nullopt: auto
  unsigned count = 1;
  std::string origin;  // "--shard" or "FILE:LINE:COL: shard", for the errors of resolve_shard
  bool operator==(const shard_spec&) const = default;
};

// "i/N" or "auto/N"; on malformed text the one-line reason (origin left empty).
std::variant<shard_spec, std::string> parse_shard(std::string_view text);

struct shard_assignment {
  unsigned index = 0;
  unsigned count = 1;
  bool operator==(const shard_assignment&) const = default;
};

// An explicit index as is; auto takes the trailing -<digits> of pod_name, else of hostname
// (either may be null: $POD_NAME and $HOSTNAME). Throws usage_error, one line naming the spec's
// origin, when neither ends in an ordinal or the ordinal is not below N.
shard_assignment resolve_shard(const shard_spec& spec, const char* pod_name, const char* hostname);

// FNV-1a, 64 bits: written out because std::hash may differ between builds and libraries.
std::uint64_t fnv1a_64(std::string_view text);
// Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm" (2014): going from N to
// N+1 buckets moves only 1/(N+1) of the keys, all of them into the new bucket.
unsigned jump_consistent_hash(std::uint64_t key, unsigned buckets);
// The shard (0..count-1) that probes the target called `name`.
unsigned shard_of(std::string_view name, unsigned count);

}  // namespace watchpost::agent
