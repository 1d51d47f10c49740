#pragma once
// A real Prometheus Pushgateway (Debian prometheus-pushgateway) on loopback and a reader of its
// /metrics exposition: the library's push tests and the commands' --push-gateway tests share them.
// A missing binary fails the test: CI installs it (scripts/install-deps.sh --test).
#include <algorithm>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>

#include "agent_fixture.hpp"
#include "process.hpp"
#include "watchpost/exporters/pushgateway.hpp"

namespace watchpost::push_test {

using namespace std::chrono_literals;
using agent_test::http_get;
using agent_test::reserve_port;
using agent_test::wait_until;

inline constexpr const char* pushgateway_binary = "/usr/bin/prometheus-pushgateway";

// A pushgateway on a free loopback port, ready when constructed; fails the test when not installed.
class pushgateway {
 public:
  // route_prefix: served under a path ("/pg"), as behind a reverse proxy.
  explicit pushgateway(const std::string& route_prefix = "")
      : port_(reserve_port()),
        prefix_(route_prefix),
        process_(agent_test::require_installed(pushgateway_binary, "prometheus-pushgateway"),
                 {"--web.listen-address=127.0.0.1:" + std::to_string(port_),
                  "--web.route-prefix=" + (route_prefix.empty() ? "/" : route_prefix), "--log.level=error"}) {
    if (!wait_until([&] { return agent_test::try_http_get(url() + "/-/ready").has_value(); }, 10s))
      throw std::runtime_error("pushgateway did not become ready on port " + std::to_string(port_));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + prefix_; }
  probes::url address() const { return std::get<probes::url>(exporters::parse_gateway_url(url())); }
  std::string metrics() const { return http_get(url() + "/metrics"); }

 private:
  std::uint16_t port_;
  std::string prefix_;
  testing::child_process process_;
};

using label_set = std::map<std::string, std::string>;

// Labels of one exposition line, from just after '{' up to the closing '}' (returned in `end`).
inline label_set parse_labels(const std::string& line, std::size_t& at) {
  label_set labels;
  while (at < line.size() && line[at] != '}') {
    const auto eq = line.find("=\"", at);
    std::string name = line.substr(at, eq - at), value;
    for (at = eq + 2; at < line.size() && line[at] != '"'; ++at) {
      if (line[at] == '\\' && at + 1 < line.size()) {
        ++at;
        value += line[at] == 'n' ? '\n' : line[at];
      } else {
        value += line[at];
      }
    }
    labels.emplace(std::move(name), std::move(value));
    at += line[at + 1] == ',' ? 2 : 1;
  }
  return labels;
}

// base with more's labels added (or replaced).
inline label_set with(label_set base, const label_set& more) {
  for (const auto& [name, value] : more) base[name] = value;
  return base;
}

// The value of the sample `name` whose labels include all of `want`; nullopt when none does.
inline std::optional<double> sample(const std::string& exposition, const std::string& name,
                                    const label_set& want) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(name + "{")) continue;
    std::size_t at = name.size() + 1;
    const label_set labels = parse_labels(line, at);
    if (std::all_of(want.begin(), want.end(), [&](const auto& kv) {
          auto it = labels.find(kv.first);
          return it != labels.end() && it->second == kv.second;
        }))
      return std::stod(line.substr(at + 2));
  }
  return std::nullopt;
}

}  // namespace watchpost::push_test
