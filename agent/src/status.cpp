// /api/status, /status and the webhook payload: plain rendering, no I/O.
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <ctime>

#include "runtime.hpp"
#include "watchpost/common/html.hpp"

namespace watchpost::agent::detail {

namespace json = boost::json;

double target_view::p95_seconds() const {
  const std::size_t n = std::min(recent_count, recent_seconds.size());
  if (n == 0) return 0.0;
  std::array<float, 128> sorted = recent_seconds;
  std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n));
  const std::size_t rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(n)));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

namespace {

std::string rfc3339(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

json::object target_json(const target_runtime& t, wall_time now) {
  std::lock_guard lock(t.mutex);
  json::object o;
  o["name"] = t.config.name;
  o["probed"] = t.view.probed;
  o["up"] = t.view.up;
  o["probes"] = t.view.probes;
  o["skipped"] = t.view.skipped;
  o["uptime_1h"] = t.window.uptime_ratio(now, std::chrono::hours(1));
  o["uptime_24h"] = t.window.uptime_ratio(now, std::chrono::hours(24));
  o["p95_seconds"] = t.view.p95_seconds();
  o["last_failure"] = t.view.last_failure;
  o["last_failure_at"] =
      t.view.last_failure_ms ? json::value(rfc3339(t.view.last_failure_ms)) : json::value(nullptr);
  json::array slos;
  for (std::size_t i = 0; i < t.objectives.size() && i < t.window.slos.size(); ++i) {
    json::object s;
    s["slo"] = t.objectives[i].name;
    s["breached"] = t.window.slos[i].breached;
    json::object burn;
    if (i < t.burn.size())
      for (const auto& r : t.burn[i]) burn[r.window] = r.burn;
    s["burn_rate"] = std::move(burn);
    slos.push_back(std::move(s));
  }
  o["slos"] = std::move(slos);
  return o;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::string render_status_json(const agent_config& config,
                               const std::vector<std::unique_ptr<target_runtime>>& targets) {
  const auto now = wall_clock::now();
  json::array list;
  for (const auto& t : targets) list.push_back(target_json(*t, now));
  json::object labels;
  for (const auto& [k, v] : config.labels) labels[k] = v;
  return json::serialize(json::object{{"agent_id", config.agent_id},
                                      {"labels", std::move(labels)},
                                      {"time", rfc3339(unix_millis(now))},
                                      {"targets", std::move(list)}});
}

std::string render_status_html(const agent_config& config,
                               const std::vector<std::unique_ptr<target_runtime>>& targets) {
  const auto now = wall_clock::now();
  std::string out =
      "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"10\">"
      "<title>watchpost status</title><style>body{font-family:sans-serif}td,th{padding:2px "
      "10px;text-align:left}"
      ".up{color:#070}.down{color:#b00}</style></head><body><h1>watchpost — " +
      html_escape(config.agent_id) +
      "</h1><table><tr><th>target</th><th>state</th><th>uptime 24h</th><th>p95</th><th>last "
      "failure</th><th>SLO</th></tr>";
  for (const auto& t : targets) {
    const json::object o = target_json(*t, now);
    const bool probed = o.at("probed").as_bool(), up = o.at("up").as_bool();
    std::string slo;
    for (const auto& s : o.at("slos").as_array())
      slo += std::string(s.at("slo").as_string()) + (s.at("breached").as_bool() ? ": BREACHED " : ": ok ");
    out += "<tr><td>" + html_escape(t->config.name) + "</td><td class=\"" + (up ? "up" : "down") + "\">" +
           (!probed ? "pending"
            : up    ? "up"
                    : "down") +
           "</td><td>" + fixed(o.at("uptime_24h").as_double() * 100, 3) + "%</td><td>" +
           fixed(o.at("p95_seconds").as_double() * 1000, 1) + " ms</td><td>" +
           html_escape(std::string(o.at("last_failure").as_string())) + "</td><td>" + html_escape(slo) +
           "</td></tr>";
  }
  return out + "</table></body></html>\n";
}

std::string render_event(const agent_config& config, const target_runtime& target,
                         const slo_decision& decision, wall_time now) {
  const auto& objective = target.objectives[decision.slo_index];
  json::object labels;
  for (const auto& [k, v] : config.labels) labels[k] = v;
  json::object o{{"event_id", decision.event_id},
                 {"event", decision.kind == slo_event_kind::breached ? "breached" : "resolved"},
                 {"target", target.config.name},
                 {"slo", objective.name},
                 {"observed_bad_ratio", decision.observed},
                 {"allowed_bad_ratio", objective.budget},
                 {"threshold", decision.threshold},
                 {"window", decision.window},
                 {"slo_window", window_label(target.config.slo.window)},
                 {"timestamp", rfc3339(unix_millis(now))},
                 {"agent_id", config.agent_id},
                 {"labels", std::move(labels)}};
  return json::serialize(o);
}

}  // namespace watchpost::agent::detail
