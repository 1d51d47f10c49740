#include "watchpost/exporters/load_report.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "watchpost/common/exit_error.hpp"
#include "watchpost/common/text_file.hpp"

namespace watchpost::exporters {

namespace json = boost::json;
using loadgen::counters;

namespace {

// "i/N" with 1 <= i <= N, as written by load_report_json; a merge indexes shards by it
// (found by fuzz_load_report_read: "0/2" wrapped to shard 4294967295).
std::pair<unsigned, unsigned> parse_shard(std::string_view text) {
  const auto number = [&](std::string_view digits) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) value = 0;
    return value;
  };
  const auto slash = text.find('/');
  const unsigned index = slash == std::string_view::npos ? 0 : number(text.substr(0, slash));
  const unsigned count = slash == std::string_view::npos ? 0 : number(text.substr(slash + 1));
  if (index == 0 || count == 0 || index > count)
    throw std::runtime_error("load report: malformed shard '" + std::string(text) +
                             "' (expected i/N, 1 <= i <= N)");
  return {index - 1, count};
}

json::object counters_json(const counters& c) {
  json::object o;
  o["requests"] = c.requests;
  o["errors"] = c.errors;
  o["bytes_read"] = c.bytes_read;
  o["dropped"] = c.dropped;
  o["in_flight_at_end"] = c.in_flight_at_end;
  o["reconnects"] = c.reconnects;
  json::object kinds;
  for (auto kind : probes::all_failure_kinds) {
    const auto n = c.errors_by_kind[static_cast<std::size_t>(kind)];
    if (n != 0) kinds[probes::to_string(kind)] = n;
  }
  o["errors_by_kind"] = std::move(kinds);
  json::object status;
  for (const auto& [code, n] : c.status_counts) status[std::to_string(code)] = n;
  o["status_codes"] = std::move(status);
  return o;
}

json::object latency_json(const stats::histogram& h) {
  json::object o;
  o["count"] = h.count();
  o["min_ns"] = h.min();
  o["mean_ns"] = h.mean();
  o["max_ns"] = h.max();
  o["stddev_ns"] = h.stddev();
  json::object q;
  for (auto [name, quantile] : {std::pair{"p50", 0.5},
                                {"p75", 0.75},
                                {"p90", 0.9},
                                {"p99", 0.99},
                                {"p99.9", 0.999},
                                {"p99.99", 0.9999}})
    q[name] = h.value_at_quantile(quantile);
  o["quantiles_ns"] = std::move(q);
  o["histogram"] = h.serialize();
  return o;
}

const json::value& field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) throw std::runtime_error("load report: missing field '" + std::string(key) + "'");
  return it->value();
}

std::uint64_t unsigned_field(const json::object& o, std::string_view key) {
  return json::value_to<std::uint64_t>(field(o, key));
}

counters parse_counters(const json::object& o) {
  counters c;
  c.requests = unsigned_field(o, "requests");
  c.errors = unsigned_field(o, "errors");
  c.bytes_read = unsigned_field(o, "bytes_read");
  // Reports written before these counters existed read as zero.
  for (auto [key, into] : {std::pair{"dropped", &c.dropped},
                           {"in_flight_at_end", &c.in_flight_at_end},
                           {"reconnects", &c.reconnects}})
    if (auto it = o.find(key); it != o.end()) *into = json::value_to<std::uint64_t>(it->value());
  for (const auto& [name, n] : field(o, "errors_by_kind").as_object()) {
    probes::failure_kind kind;
    if (!probes::parse_failure_kind(name, kind))
      throw std::runtime_error("load report: unknown error kind '" + std::string(name) + "'");
    c.errors_by_kind[static_cast<std::size_t>(kind)] = json::value_to<std::uint64_t>(n);
  }
  for (const auto& [code, n] : field(o, "status_codes").as_object())
    c.status_counts[std::stoi(std::string(code))] = json::value_to<std::uint64_t>(n);
  return c;
}

stats::histogram parse_histogram(const json::object& latency) {
  auto h = stats::histogram::parse(field(latency, "histogram").as_string());
  if (!h) throw std::runtime_error("load report: malformed latency histogram");
  return std::move(*h);
}

}  // namespace

std::string load_report_json(const loadgen::load_result& r,
                             const std::vector<loadgen::threshold_outcome>& outcomes) {
  json::object root;
  root["watchpost_load_report"] = load_report_version;
  const auto& p = r.parameters;
  json::object params;
  params["target"] = p.target;
  params["model"] = p.model;
  params["connections"] = p.connections;
  params["threads"] = p.threads;
  params["rate"] = p.rate;
  params["duration_s"] = p.duration_seconds;
  params["max_requests"] = p.max_requests;
  params["shard"] = std::to_string(p.shard_index + 1) + "/" + std::to_string(p.shard_count);
  json::array thresholds;
  for (const auto& t : p.thresholds) thresholds.emplace_back(t);
  params["thresholds"] = std::move(thresholds);
  root["parameters"] = std::move(params);
  root["elapsed_s"] = r.elapsed_seconds;
  root["interrupted"] = r.interrupted;
  root["io_backend"] = r.io_backend;
  if (!r.io_backend_reason.empty()) root["io_backend_reason"] = r.io_backend_reason;
  root["rps"] = r.rps();
  root["totals"] = counters_json(r.totals);
  root["latency"] = latency_json(r.latency);
  if (r.open_model()) root["uncorrected_latency"] = latency_json(r.uncorrected_latency);
  json::array series;
  for (const auto& s : r.series) {
    json::object o = counters_json(s.totals);
    o["second"] = s.second;
    o["p50_ns"] = s.p50;
    o["p90_ns"] = s.p90;
    o["p99_ns"] = s.p99;
    o["max_ns"] = s.max;
    o["histogram"] = s.latency;
    series.emplace_back(std::move(o));
  }
  root["series"] = std::move(series);
  json::object failures;
  for (const auto& [message, n] : r.assertion_failures) failures[message] = n;
  root["assertion_failures"] = std::move(failures);
  json::array verdict;
  bool passed = true;
  for (const auto& o : outcomes) {
    verdict.emplace_back(json::object{
        {"threshold", o.text}, {"passed", o.passed}, {"observed", o.observed}, {"where", o.where}});
    passed = passed && o.passed;
  }
  root["thresholds"] = std::move(verdict);
  root["passed"] = passed;
  return json::serialize(root) + "\n";
}

loadgen::load_result parse_load_report(const std::string& text) {
  try {
    const json::value doc = json::parse(text);
    const json::object& root = doc.as_object();
    if (json::value_to<int>(field(root, "watchpost_load_report")) != load_report_version)
      throw std::runtime_error("load report: unsupported version");
    loadgen::load_result r;
    const auto& params = field(root, "parameters").as_object();
    auto& p = r.parameters;
    p.target = json::value_to<std::string>(field(params, "target"));
    p.model = json::value_to<std::string>(field(params, "model"));
    p.connections = unsigned_field(params, "connections");
    p.threads = static_cast<unsigned>(unsigned_field(params, "threads"));
    p.rate = json::value_to<double>(field(params, "rate"));
    p.duration_seconds = json::value_to<double>(field(params, "duration_s"));
    p.max_requests = unsigned_field(params, "max_requests");
    std::tie(p.shard_index, p.shard_count) = parse_shard(json::value_to<std::string>(field(params, "shard")));
    for (const auto& t : field(params, "thresholds").as_array())
      p.thresholds.push_back(json::value_to<std::string>(t));
    r.elapsed_seconds = json::value_to<double>(field(root, "elapsed_s"));
    r.interrupted = field(root, "interrupted").as_bool();
    // Reports from before the io_uring back end have neither field.
    if (auto it = root.find("io_backend"); it != root.end())
      r.io_backend = json::value_to<std::string>(it->value());
    if (auto it = root.find("io_backend_reason"); it != root.end())
      r.io_backend_reason = json::value_to<std::string>(it->value());
    r.totals = parse_counters(field(root, "totals").as_object());
    r.latency = parse_histogram(field(root, "latency").as_object());
    if (r.open_model())
      r.uncorrected_latency = parse_histogram(field(root, "uncorrected_latency").as_object());
    for (const auto& v : field(root, "series").as_array()) {
      const auto& o = v.as_object();
      loadgen::series_point s;
      s.second = json::value_to<std::int64_t>(field(o, "second"));
      s.totals = parse_counters(o);
      s.latency = json::value_to<std::string>(field(o, "histogram"));
      if (!s.latency.empty() && !stats::histogram::parse(s.latency))
        throw std::runtime_error("load report: malformed histogram in second " + std::to_string(s.second));
      s.p50 = json::value_to<std::int64_t>(field(o, "p50_ns"));
      s.p90 = json::value_to<std::int64_t>(field(o, "p90_ns"));
      s.p99 = json::value_to<std::int64_t>(field(o, "p99_ns"));
      s.max = json::value_to<std::int64_t>(field(o, "max_ns"));
      r.series.push_back(std::move(s));
    }
    if (auto it = root.find("assertion_failures"); it != root.end())
      for (const auto& [message, n] : it->value().as_object())
        loadgen::add_failure_message(r.assertion_failures, std::string(message),
                                     json::value_to<std::uint64_t>(n));
    return r;
  } catch (const boost::system::system_error& e) {  // JSON syntax and conversion errors
    throw std::runtime_error(std::string("load report: ") + e.what());
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("load report: ") + e.what());
  }
}

loadgen::load_result read_load_report_file(const std::string& path) {
  const auto text = read_text_file(path);
  if (!text) throw usage_error("cannot read " + path);
  try {
    return parse_load_report(*text);
  } catch (const std::exception& e) {
    throw usage_error(path + ": " + e.what());
  }
}

void write_text_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) throw cannot_run("cannot write " + path);
}

}  // namespace watchpost::exporters
