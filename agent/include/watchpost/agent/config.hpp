#pragma once
// The agent's configuration as a validated value (SPEC "Agent"). load_config() throws
// watchpost::config_error naming file:line:column; `${env:NAME}` references are resolved
// here so secrets never travel as text through the rest of the config path.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "watchpost/agent/shard.hpp"
#include "watchpost/common/duration.hpp"
#include "watchpost/probes/check.hpp"
#include "watchpost/probes/dns_resolver.hpp"
#include "watchpost/probes/http_types.hpp"
#include "watchpost/probes/redact.hpp"
#include "watchpost/probes/suite.hpp"

namespace watchpost::agent {

struct burn_alert {
  nanoseconds long_window{};
  nanoseconds short_window{};
  double factor = 1.0;
};

// The ring burn rates are summed over: slices of a quarter of the shortest 'short' window (keeps
// the short burn rate within ~25% of exact; at least 100 ms), enough to span the longest 'long'.
struct burn_ring_geometry {
  nanoseconds slice{};
  std::size_t slots = 0;
};
burn_ring_geometry burn_ring_for(const std::vector<burn_alert>& alerts);
// Per target with an SLO, refused at load beyond it: 5m..3d alerts need 3,458 slots; 5m..365d
// would need 420,482 (~10 MB per target).
inline constexpr std::size_t max_burn_ring_slots = 4096;

struct slo_config {
  std::optional<double> availability;      // objective fraction of successful probes, e.g. 0.999
  std::optional<double> latency_quantile;  // e.g. 0.95 for p95
  nanoseconds latency_bound{};
  std::optional<double> error_rate;  // allowed fraction of failed probes, e.g. 0.01
  nanoseconds window = std::chrono::hours(24 * 30);
  std::vector<burn_alert> burn_alerts;
  std::uint64_t min_requests = 20;
  bool empty() const { return !availability && !latency_quantile && !error_rate; }
};

struct webhook_config {
  probes::url url;
  std::string secret;  // resolved value; never logged
  nanoseconds cooldown = std::chrono::minutes(15);
  nanoseconds timeout = std::chrono::seconds(10);
  // A breached and its resolved both still undelivered (the receiver was down throughout) are
  // dropped together instead of sent in order: for receivers that only act on the current state.
  bool collapse_resolved_pairs = false;
};

struct target_config {
  std::string name;
  probes::request request;  // method, url, headers (values may be secrets: never logged)
  // A suite target runs these checks each interval instead of one request; its base URL is
  // `url:` when given, else the suite's own base_url. Shared: reloads copy configs.
  std::shared_ptr<const probes::suite> suite;
  std::string suite_base_url;
  nanoseconds interval = std::chrono::seconds(10);
  nanoseconds jitter{};  // defaults to interval / 10
  nanoseconds timeout = std::chrono::seconds(5);
  bool keep_alive = false;  // a fresh connection per probe measures what users see
  bool insecure = false;
  // A single probe's `expect:`: the suites' check language, parsed and judged by probes/.
  // Without a status rule a response must be 2xx or 3xx.
  probes::expectation expect;
  // Values the judge masks in failure messages: ${env:...} values of the url, headers and
  // expect:, and credential header values (Authorization, Cookie, ...).
  std::shared_ptr<const probes::redactor> secrets = std::make_shared<const probes::redactor>();
  slo_config slo;
  std::vector<webhook_config> on_breach;
  // The agent's `labels:` merged with the target's: extra labels on every series of the target.
  std::map<std::string, std::string> labels;
};

// dns: { servers: [127.0.0.1:5353], cache_ttl: 30s }. Each worker thread has one resolver
// with this cache, shared by its targets.
struct dns_config {
  std::vector<std::string> servers;  // IP[:PORT] each; empty = /etc/resolv.conf
  nanoseconds cache_ttl = probes::default_dns_cache_ttl;
};

// Optional protection of the listen endpoints (/healthz always stays open).
struct listen_protection {
  std::string user;      // basic auth required when set
  std::string password;  // resolved from ${env:...}; never logged
  std::string tls_cert;  // PEM certificate chain and key files: https when set
  std::string tls_key;
  bool operator==(const listen_protection&) const = default;
};

struct agent_config {
  std::string source;  // path it was read from
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 9464;
  listen_protection listen_security;
  // Concurrent status-server clients; more are accepted and closed at once. The agent lowers it
  // further so that probes always keep descriptors (see status_server).
  int listen_max_connections = 256;
  std::string state_dir = "./watchpost-state";
  std::string agent_id;                       // defaults to the host name
  std::map<std::string, std::string> labels;  // agent-level; each target carries the merged set
  int threads = 2;
  // Probe starts are rounded up to multiples of this, so a worker wakes once per batch of
  // due probes instead of once per probe: the wakeups, not the probes, dominate the CPU at
  // 1,000 probes/s. 0 starts every probe at its own jittered time.
  nanoseconds batch_window = std::chrono::milliseconds(50);
  dns_config dns;
  // Webhook events older than this are recorded as expired instead of delivered: a rollback
  // decided an hour ago is no longer the receiver's to act on.
  nanoseconds max_event_age = std::chrono::hours(1);
  // Outbox depth limit: events raised beyond it are dropped and counted (a receiver down for
  // days must not fill state_dir).
  std::size_t max_outbox_events = 10000;
  // `shard: "i/N"` or "auto/N": the agent probes only its share of `targets` (shard.hpp). The
  // command line's --shard wins over it; absent, one shard holds all.
  std::optional<shard_spec> shard;
  std::vector<target_config> targets;
};

agent_config load_config(const std::string& path);

struct shard_selection {
  shard_assignment shard;
  std::size_t all_targets = 0;  // in the file, before the selection
};
// Keeps only the targets of the agent's shard, in config order: `flag` (--shard) wins over
// config.shard; auto/N reads $POD_NAME and $HOSTNAME. Throws usage_error (see resolve_shard).
shard_selection keep_shard_targets(agent_config& config, const std::optional<shard_spec>& flag);
agent_config parse_config(const std::string& yaml_text, const std::string& name);

// "4s", "5m", "1h", "30d", "250ms": the window label used in metrics and events.
std::string window_label(nanoseconds d);

}  // namespace watchpost::agent
