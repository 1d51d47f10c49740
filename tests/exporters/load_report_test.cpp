#include "watchpost/exporters/load_report.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "watchpost/exporters/load_console.hpp"
#include "watchpost/exporters/load_html.hpp"

using namespace watchpost;
using namespace watchpost::loadgen;

namespace {

// A run with `seconds` seconds of traffic; latencies depend on `seed` so shards differ.
load_result make_run(int seconds, int seed, bool open) {
  load_result r;
  r.parameters.target = "http://127.0.0.1:1/";
  r.parameters.model = open ? "open" : "closed";
  r.parameters.connections = 4;
  r.parameters.threads = 2;
  r.parameters.rate = open ? 100 : 0;
  r.parameters.duration_seconds = seconds;
  r.parameters.thresholds = {"p99<250ms"};
  for (int s = 0; s < seconds; ++s) {
    counters c;
    stats::histogram corrected, uncorrected;
    for (int i = 0; i < 100; ++i) {
      const std::int64_t v = 1'000'000 + (i * 7919 + seed * 104729 + s) % 5'000'000;
      corrected.record(v + (i == 0 ? 300'000'000 : 0));
      if (open) uncorrected.record(v);
      ++c.requests;
      ++c.status_counts[200];
    }
    c.bytes_read = 100 * 250;
    c.add_error(probes::failure_kind::timeout);
    c.add_error(probes::failure_kind::connect);
    c.dropped = static_cast<std::uint64_t>(seed + s);
    c.reconnects = 2;
    if (s == seconds - 1) c.in_flight_at_end = 3;
    r.add_interval(s, c, corrected, uncorrected);
  }
  r.elapsed_seconds = seconds + 0.01;
  add_failure_message(r.assertion_failures, "home: json $.ok: expected true, got false", 3 + seed);
  r.io_backend = seed == 1 ? "uring" : "epoll";
  if (seed != 1) r.io_backend_reason = "io_uring refused by WATCHPOST_IO_URING=0";
  return r;
}

void require_same(const load_result& a, const load_result& b) {
  CHECK(a.parameters == b.parameters);
  CHECK(a.elapsed_seconds == Approx(b.elapsed_seconds));
  CHECK(a.interrupted == b.interrupted);
  CHECK(a.totals == b.totals);
  CHECK(a.latency == b.latency);
  CHECK(a.uncorrected_latency == b.uncorrected_latency);
  CHECK(a.series == b.series);
  CHECK(a.assertion_failures == b.assertion_failures);
  CHECK(a.io_backend == b.io_backend);
  CHECK(a.io_backend_reason == b.io_backend_reason);
}

}  // namespace

TEST_CASE("JSON report round trip keeps histograms, counts and the series exactly") {
  for (bool open : {false, true}) {
    const load_result run = make_run(5, open ? 2 : 1, open);
    const auto outcomes = evaluate_thresholds({std::get<threshold>(parse_threshold("p99<250ms"))}, run);
    const std::string json = exporters::load_report_json(run, outcomes);
    const load_result back = exporters::parse_load_report(json);
    require_same(run, back);
    CHECK(back.totals.errors_by_kind[static_cast<std::size_t>(probes::failure_kind::timeout)] == 5);
    // Writing what was read gives the same bytes.
    CHECK(exporters::load_report_json(back, outcomes) == json);
  }
}

TEST_CASE("merging shard reports equals the run of all their samples") {
  const load_result a = make_run(4, 1, true);
  const load_result b = make_run(6, 2, true);
  load_result merged = exporters::parse_load_report(exporters::load_report_json(a, {}));
  merged.merge(exporters::parse_load_report(exporters::load_report_json(b, {})));

  stats::histogram all = a.latency;
  all.merge(b.latency);
  CHECK(merged.latency == all);
  CHECK(merged.totals.requests == a.totals.requests + b.totals.requests);
  CHECK(merged.totals.status_counts.at(200) == 1000);
  CHECK(merged.totals.dropped == (1 + 2 + 3 + 4) + (2 + 3 + 4 + 5 + 6 + 7));
  CHECK(merged.totals.in_flight_at_end == 6);
  CHECK(merged.totals.reconnects == 20);
  REQUIRE(merged.assertion_failures.size() == 1);
  CHECK(merged.assertion_failures.begin()->second ==
        a.assertion_failures.begin()->second + b.assertion_failures.begin()->second);
  CHECK(merged.series.size() == 6);
  CHECK(merged.series[0].totals.requests == a.series[0].totals.requests + b.series[0].totals.requests);
  CHECK(merged.series[5].totals == b.series[5].totals);
  CHECK(merged.elapsed_seconds == Approx(6.01));
  CHECK(merged.parameters.connections == 8);
  CHECK(merged.parameters.rate == Approx(200));
  // Shards that ran different I/O back ends name both, and why one was not io_uring.
  CHECK(merged.io_backend == "uring,epoll");
  CHECK(merged.io_backend_reason == b.io_backend_reason);
  // Percentiles of a merged second come from the merged histogram, not averaged.
  auto second0 = *stats::histogram::parse(a.series[0].latency);
  second0.merge(*stats::histogram::parse(b.series[0].latency));
  CHECK(merged.series[0].p99 == second0.value_at_quantile(0.99));
}

TEST_CASE("reports written before dropped, in_flight_at_end and reconnects existed read them as zero") {
  std::string json = exporters::load_report_json(make_run(1, 1, false), {});
  for (const std::string key : {"\"dropped\":", "\"in_flight_at_end\":", "\"reconnects\":"})
    for (auto at = json.find(key); at != std::string::npos; at = json.find(key))
      json.erase(at, json.find(',', at) + 1 - at);
  const load_result back = exporters::parse_load_report(json);
  CHECK(back.totals.dropped == 0);
  CHECK(back.totals.in_flight_at_end == 0);
  CHECK(back.totals.requests == 102);
}

TEST_CASE("malformed reports are rejected with a reason") {
  CHECK_THROWS_WITH(exporters::parse_load_report("{}"), Catch::Contains("missing field"));
  CHECK_THROWS_WITH(exporters::parse_load_report("not json"), Catch::Contains("load report"));
  std::string json = exporters::load_report_json(make_run(2, 1, false), {});
  json.replace(json.find("wph1."), 5, "xxxx.");
  CHECK_THROWS(exporters::parse_load_report(json));
}

// Found by fuzz_load_report_read (corpus/load_report_read/shard_zero): "0/2" wrapped the index.
TEST_CASE("a shard outside 1..N is a malformed report") {
  const std::string json = exporters::load_report_json(make_run(2, 1, false), {});
  const auto shard = json.find("\"shard\":\"");
  REQUIRE(shard != std::string::npos);
  const auto value = shard + 9;
  const auto end = json.find('"', value);
  for (const std::string bad : {"0/2", "3/2", "1/0", "-1/2", "1/2x", "12", " 1/2"}) {
    std::string edited = json;
    edited.replace(value, end - value, bad);
    CHECK_THROWS_WITH(exporters::parse_load_report(edited), Catch::Contains("malformed shard"));
  }
}

TEST_CASE("summary and HTML name what a reader needs") {
  const load_result run = make_run(3, 1, true);
  const auto outcomes = evaluate_thresholds({std::get<threshold>(parse_threshold("p99<250ms"))}, run);
  const std::string summary = exporters::load_summary(run, outcomes);
  CHECK(summary.find("corrected") != std::string::npos);
  CHECK(summary.find("uncorrected") != std::string::npos);
  CHECK(summary.find("timeout=3") != std::string::npos);
  CHECK(summary.find("200=300") != std::string::npos);
  CHECK(summary.find("p99.99") != std::string::npos);
  CHECK(summary.find("WARNING: 6 requests dropped") != std::string::npos);
  CHECK(summary.find("in flight  3 unanswered") != std::string::npos);
  CHECK(summary.find("reconnects 6 ") != std::string::npos);
  const std::string html = exporters::load_report_html(run, outcomes);
  CHECK(html.find("<svg") != std::string::npos);
  // No external resources: the only URLs are the target and the SVG namespace (an identifier,
  // never fetched).
  std::set<std::string> urls;
  for (auto at = html.find("://"); at != std::string::npos; at = html.find("://", at + 3)) {
    const auto start = html.find_last_not_of("abcdefghijklmnopqrstuvwxyz", at - 1) + 1;
    urls.insert(html.substr(start, html.find_first_of("'\"<>) ", at) - start));
  }
  CHECK(urls.contains("http://127.0.0.1:1/"));
  for (const auto& url : urls) {
    INFO(url);
    CHECK((url == "http://127.0.0.1:1/" || url == "http://www.w3.org/2000/svg"));
  }
  CHECK(html.find("<script") == std::string::npos);
}

TEST_CASE("assertion failure messages stay bounded: the first distinct ones, the rest as other") {
  failure_messages m;
  for (int i = 0; i < 50; ++i) add_failure_message(m, "latency: got " + std::to_string(i) + "ms");
  CHECK(m.size() == max_failure_messages + 1);
  CHECK(m.at(std::string(other_failure_messages)) == 50 - max_failure_messages);
  failure_messages more{{"latency: got 0ms", 5}, {"new message", 2}};
  merge_failure_messages(m, more);
  CHECK(m.at("latency: got 0ms") == 6);
  CHECK(m.at(std::string(other_failure_messages)) == 50 - max_failure_messages + 2);
}
