#include "watchpost/exporters/probe_report.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

namespace watchpost::exporters {

namespace json = boost::json;

std::string iso8601(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  std::tm tm{};
  char zone = 0;
  const std::string copy(text);
  if (text.size() != 20 || std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
                                       &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &zone) != 7)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (iso8601(t) != text) return std::nullopt;  // out-of-range fields were normalised away
  return t;
}

// Whole microseconds: exact integers read better than Boost.JSON's exponent-form doubles.
json::object timings_json(const probes::phase_timings& t) {
  auto us = [](nanoseconds d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
  return {{"resolve", us(t.resolve)}, {"connect", us(t.connect)},   {"tls", us(t.tls)},
          {"ttfb", us(t.ttfb)},       {"transfer", us(t.transfer)}, {"total", us(t.total)}};
}

json::object tls_json(const probes::tls_info& tls) {
  json::object o{{"version", tls.version}, {"cipher", tls.cipher}, {"cert_subject", tls.cert_subject}};
  if (!tls.alpn.empty()) o["alpn"] = tls.alpn;
  if (tls.cert_not_after) {
    o["cert_not_after"] = iso8601(*tls.cert_not_after);
    const auto left = *tls.cert_not_after - std::chrono::system_clock::now();
    o["cert_days_left"] = std::chrono::duration_cast<std::chrono::hours>(left).count() / 24;
  }
  return o;
}

std::string probe_json(const probes::request& req, const probes::result& res) {
  json::object o{{"url", req.target.to_string()},
                 {"method", req.method},
                 {"ok", res.ok()},
                 {"result", probes::to_string(res.failure)},
                 {"status", res.status},
                 {"timings_us", timings_json(res.timings)},
                 {"connection_reused", res.connection_reused},
                 {"reconnects", res.reconnects},
                 {"redirects_followed", res.redirects_followed},
                 {"effective_url", res.effective_url},
                 {"body_bytes", res.body.size()}};
  if (!res.ok()) o["error"] = res.error;
  if (res.status != 0) o["protocol"] = probes::protocol_name(res.protocol);
  if (res.tls.present) o["tls"] = tls_json(res.tls);
  json::object headers;
  for (const auto& h : res.headers) headers[h.name] = h.value;
  o["response_headers"] = std::move(headers);
  return json::serialize(o) + "\n";
}

std::string probe_text(const probes::request& req, const probes::result& res) {
  std::string out = req.method + " " + req.target.to_string();
  if (res.status != 0)
    out += " -> " + std::string(probes::protocol_name(res.protocol)) + " " + std::to_string(res.status) +
           (res.reason.empty() ? "" : " " + res.reason);
  out += "\n";
  const auto& t = res.timings;
  auto phase = [&](const char* name, nanoseconds d) {
    out += std::string("  ") + name + " " + format_duration(d);
  };
  phase("resolve", t.resolve);
  phase("connect", t.connect);
  if (res.tls.present || req.target.tls) phase("tls", t.tls);
  phase("ttfb", t.ttfb);
  phase("transfer", t.transfer);
  phase("total", t.total);
  out += "\n";
  if (res.tls.present) {
    out += "  " + res.tls.version + " " + res.tls.cipher;
    if (res.tls.cert_not_after) {
      const auto days = std::chrono::duration_cast<std::chrono::hours>(*res.tls.cert_not_after -
                                                                       std::chrono::system_clock::now())
                            .count() /
                        24;
      out += ", certificate expires " + iso8601(*res.tls.cert_not_after) + " (" + std::to_string(days) +
             " days)";
    }
    out += "\n";
  }
  if (res.status != 0) out += "  body " + std::to_string(res.body.size()) + " bytes\n";
  if (!res.ok()) out += "FAIL " + std::string(probes::to_string(res.failure)) + ": " + res.error + "\n";
  return out;
}

}  // namespace watchpost::exporters
