// The shipped Grafana dashboard queries only the stable metric names of SPEC "Metrics".
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "process.hpp"

TEST_CASE("the Grafana dashboard is valid JSON and uses only the spec's metric names") {
  std::ifstream in(watchpost::testing::source_dir() + "/deploy/grafana/watchpost.json");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  boost::json::error_code ec;
  const auto dashboard = boost::json::parse(text.str(), ec);
  REQUIRE_FALSE(ec);
  const std::set<std::string> spec = {"watchpost_probe_success",      "watchpost_probe_total",
                                      "watchpost_probe_duration_seconds", "watchpost_uptime_ratio",
                                      "watchpost_slo_burn_rate",       "watchpost_slo_breached",
                                      "watchpost_tls_cert_expiry_timestamp_seconds",
                                      "watchpost_webhook_deliveries_total"};
  const std::string body = text.str();
  const std::regex name(R"(watchpost_[a-z_]+)");
  std::size_t queries = 0;
  for (auto it = std::sregex_iterator(body.begin(), body.end(), name); it != std::sregex_iterator(); ++it) {
    std::string metric = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (metric.ends_with(suffix) && spec.contains(metric.substr(0, metric.size() - std::strlen(suffix))))
        metric.resize(metric.size() - std::strlen(suffix));
    INFO(metric);
    CHECK(spec.contains(metric));
    ++queries;
  }
  CHECK(queries >= spec.size());
}
