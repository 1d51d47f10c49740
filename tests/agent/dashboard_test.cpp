// The shipped Grafana dashboard: the panels a reader needs, each querying only the stable metric
// names of SPEC "Metrics", and every metric family the dashboard charts queried by some panel.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "process.hpp"

namespace {

namespace json = boost::json;

// The families the dashboard charts: each must be queried by at least one panel.
const std::set<std::string> charted_metrics = {"watchpost_probe_success",
                                               "watchpost_probe_total",
                                               "watchpost_probe_duration_seconds",
                                               "watchpost_uptime_ratio",
                                               "watchpost_slo_burn_rate",
                                               "watchpost_slo_breached",
                                               "watchpost_tls_cert_expiry_timestamp_seconds",
                                               "watchpost_webhook_deliveries_total"};

// SPEC "Metrics" for the agent: the names the dashboard may query (charted ones and two more).
const std::set<std::string> spec_metrics = [] {
  auto names = charted_metrics;
  names.insert({"watchpost_slo_error_budget_remaining", "watchpost_maintenance_active"});
  return names;
}();

bool metric_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }

// The metric names a PromQL expression reads: identifiers before a '{' selector, and every
// watchpost_* identifier (bare selectors, label_values arguments). Histogram series name their family.
std::set<std::string> metrics_in(std::string_view expr) {
  std::set<std::string> names;
  for (std::size_t at = 0; at < expr.size();) {
    if (!metric_char(expr[at]) || (at > 0 && metric_char(expr[at - 1]))) {
      ++at;
      continue;
    }
    std::size_t end = at;
    while (end < expr.size() && metric_char(expr[end])) ++end;
    std::string name(expr.substr(at, end - at));
    auto next = end;
    while (next < expr.size() && expr[next] == ' ') ++next;
    if (name.starts_with("watchpost_") || (next < expr.size() && expr[next] == '{')) {
      for (std::string_view suffix : {"_bucket", "_sum", "_count"})
        if (name.ends_with(suffix) && spec_metrics.contains(name.substr(0, name.size() - suffix.size())))
          name.resize(name.size() - suffix.size());
      names.insert(std::move(name));
    }
    at = end;
  }
  return names;
}

std::vector<std::string> queries_of(const json::object& panel) {
  std::vector<std::string> queries;
  for (const auto& target : panel.at("targets").as_array())
    queries.emplace_back(target.as_object().at("expr").as_string());
  return queries;
}

json::value load_dashboard() {
  std::ifstream in(watchpost::testing::source_dir() + "/deploy/grafana/watchpost.json");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  boost::json::error_code ec;
  auto dashboard = json::parse(text.str(), ec);
  REQUIRE_FALSE(ec);
  return dashboard;
}

}  // namespace

TEST_CASE("the Grafana dashboard has the key panels, each querying only the spec's metric names") {
  const json::value dashboard = load_dashboard();
  const auto& panels = dashboard.at("panels").as_array();
  CHECK(panels.size() == 9);

  std::map<std::string, std::vector<std::string>> queries_by_title;
  std::set<std::string> queried;
  for (const auto& value : panels) {
    const auto& panel = value.as_object();
    const std::string title(panel.at("title").as_string());
    INFO("panel " << title);
    CHECK(panel.at("datasource").at("uid") == "${datasource}");
    const auto queries = queries_of(panel);
    CHECK_FALSE(queries.empty());
    for (const auto& query : queries) {
      INFO("query " << query);
      const auto names = metrics_in(query);
      CHECK_FALSE(names.empty());  // a query that reads no metric charts nothing
      for (const auto& name : names) {
        INFO("metric " << name);
        CHECK(spec_metrics.contains(name));
        queried.insert(name);
      }
    }
    queries_by_title.emplace(title, queries);
  }
  for (const auto& family : charted_metrics) {
    INFO("no panel queries " << family);
    CHECK(queried.contains(family));
  }

  for (const char* title :
       {"Uptime", "Probe latency p50/p95/p99 (total)", "Failures by reason", "SLO burn rate"}) {
    INFO("missing panel " << title);
    CHECK(queries_by_title.contains(title));
  }
  CHECK(queries_by_title["Uptime"] ==
        std::vector<std::string>{"watchpost_uptime_ratio{target=~\"$target\"}"});
  const auto latency = queries_by_title["Probe latency p50/p95/p99 (total)"];
  REQUIRE(latency.size() == 3);
  const char* quantiles[] = {"histogram_quantile(0.5,", "histogram_quantile(0.95,",
                             "histogram_quantile(0.99,"};
  for (std::size_t i = 0; i < latency.size(); ++i) {
    CHECK_THAT(latency[i], Catch::StartsWith(quantiles[i]) &&
                               Catch::Contains("watchpost_probe_duration_seconds_bucket{") &&
                               Catch::Contains("phase=\"total\""));
  }
  // Per-phase series are opt-in (phase_histograms: all): the phase panel says so.
  const auto phase_panel = std::find_if(panels.begin(), panels.end(), [](const json::value& p) {
    return p.at("title") == "Latency by phase (p95)";
  });
  REQUIRE(phase_panel != panels.end());
  CHECK_THAT(std::string(phase_panel->at("description").as_string()),
             Catch::Contains("phase_histograms: all"));
  const auto failures = queries_by_title["Failures by reason"];
  REQUIRE(failures.size() == 1);
  CHECK_THAT(failures[0], Catch::Contains("by (target, result)") &&
                              Catch::Contains("watchpost_probe_total{") && Catch::Contains("result!=\"ok\""));
  CHECK(queries_by_title["SLO burn rate"] ==
        std::vector<std::string>{"watchpost_slo_burn_rate{target=~\"$target\"}"});

  // The target picker lists the probed targets from a spec metric too.
  const auto& variables = dashboard.at("templating").at("list").as_array();
  const auto target = std::find_if(variables.begin(), variables.end(),
                                   [](const json::value& v) { return v.at("name") == "target"; });
  REQUIRE(target != variables.end());
  CHECK(metrics_in(target->at("query").as_string()) == std::set<std::string>{"watchpost_probe_success"});
}
