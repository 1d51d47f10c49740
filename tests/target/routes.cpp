#include "routes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>

#include "faults.hpp"

namespace watchpost::test_target {

namespace {

constexpr std::string_view server_name = "watchpost-test-target";
constexpr std::string_view text_plain = "text/plain; charset=utf-8";
constexpr std::string_view application_json = "application/json";
constexpr std::string_view octet_stream = "application/octet-stream";

constexpr std::string_view html_page =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>fake deployment</title></head><body><h1>fake deployment</h1>"
    "<p>watchpost test target</p></body></html>\n";

// Limits that keep every route's resource use bounded.
constexpr std::uint64_t max_bytes_route = 100'000'000;
constexpr std::uint64_t max_delay_ms = 600'000;
constexpr std::uint64_t max_drip_bytes = 1'000'000;
constexpr std::uint64_t max_drip_interval_ms = 60'000;
constexpr std::uint64_t max_redirects = 1000;
constexpr std::uint64_t max_freeze_ms = 600'000;
constexpr std::uint64_t max_interim_count = 10;
constexpr std::uint64_t max_h2_error = 13;  // HTTP_1_1_REQUIRED, the last code RFC 9113 defines

std::optional<std::uint64_t> to_number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string_view> strip_prefix(std::string_view text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return std::nullopt;
  return text.substr(prefix.size());
}

std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return std::nullopt;
}

// The numeric query parameter `name`; `fallback` when absent, nullopt when not a number.
std::optional<std::uint64_t> number_param(std::string_view query, std::string_view name,
                                          std::uint64_t fallback) {
  auto text = query_param(query, name);
  return text ? to_number(*text) : fallback;
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

reply make(unsigned version, unsigned status, std::string body = {}, std::string_view type = text_plain) {
  reply r;
  r.res.version(version);
  r.res.result(status);
  if (http::int_to_status(status) == http::status::unknown) r.res.reason("Unknown");
  if (!type.empty()) r.res.set(http::field::content_type, type);
  r.res.body() = std::move(body);
  return r;
}

reply make(unsigned version, http::status status, std::string body = {}, std::string_view type = text_plain) {
  return make(version, static_cast<unsigned>(status), std::move(body), type);
}

reply bad_request(unsigned version, std::string_view why) {
  return make(version, http::status::bad_request, "bad request: " + std::string(why) + "\n");
}

reply not_found(unsigned version) { return make(version, http::status::not_found, "not found"); }

// Common headers and framing; `keep_alive` false forces Connection: close.
void finish(reply& r, const request& req, const server_state& st, bool tls, bool keep_alive) {
  auto& res = r.res;
  res.set(http::field::server, server_name);
  if (tls && st.cfg.prof.hsts) res.set(http::field::strict_transport_security, "max-age=31536000");
  res.keep_alive(keep_alive);

  const unsigned code = res.result_int();
  if (code < 200 || code == 204 || code == 304) {
    res.body().clear();
    res.erase(http::field::content_length);
    res.erase(http::field::content_type);
    if (r.kind != reply_kind::delayed) r.kind = reply_kind::message;
    return;
  }
  switch (r.kind) {
    case reply_kind::chunked:
      res.chunked(true);
      break;
    case reply_kind::drip:
    case reply_kind::bytes:
      res.content_length(r.size);
      break;
    case reply_kind::reset:
      res.content_length(1000);
      break;
    default:
      res.content_length(res.body().size());
      break;
  }
  if (req.method() == http::verb::head && (r.kind == reply_kind::message || r.kind == reply_kind::drip ||
                                           r.kind == reply_kind::bytes || r.kind == reply_kind::chunked)) {
    res.body().clear();  // Content-Length stays: it describes what GET would send
    r.kind = reply_kind::message;
  }
}

void add_cors(reply& r, const request& req, const profile& prof) {
  auto& res = r.res;
  auto origin = req[http::field::origin];
  if (prof.cors_wildcard_with_credentials) {
    res.set(http::field::access_control_allow_origin, "*");
    res.set(http::field::access_control_allow_credentials, "true");
  } else if (!origin.empty()) {
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::access_control_allow_credentials, "true");
  }
  res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
  res.set(http::field::access_control_allow_headers, "Content-Type, Authorization");
  res.set(http::field::vary, "Origin");
}

std::string file_json(std::string_view id, std::size_t size) {
  return "{\"id\":" + json_escape(id) + ",\"size\":" + std::to_string(size) + "}";
}

reply api(const request& req, std::string_view path, server_state& st) {
  const unsigned v = req.version();
  if (req.method() == http::verb::options) return make(v, http::status::no_content, {}, {});
  if (path == "/api/info") {
    return make(v, http::status::ok,
                R"({"name":"fake-deployment","items":[{"id":1,"tags":["a","b"]},{"id":2,"tags":[]}],)"
                R"("count":2,"ratio":0.25,"enabled":true,"nothing":null})",
                application_json);
  }
  if (path == "/api/files") {
    if (req.method() != http::verb::post) {
      auto r = make(v, http::status::method_not_allowed, "method not allowed");
      r.res.set(http::field::allow, "POST");
      return r;
    }
    const std::size_t size = req.body().size();
    std::string id = st.files.put(req.body());
    return make(v, http::status::created, file_json(id, size), application_json);
  }
  if (auto rest = strip_prefix(path, "/api/files/")) {
    bool raw = false;
    if (auto id = rest->substr(0, rest->find('/')); id.size() < rest->size()) {
      if (rest->substr(id.size()) != "/raw") return not_found(v);
      raw = true;
    }
    std::string id(rest->substr(0, rest->find('/')));
    if (raw) {
      if (auto body = st.files.raw(id)) return make(v, http::status::ok, std::move(*body), octet_stream);
    } else if (auto size = st.files.size(id)) {
      return make(v, http::status::ok, file_json(id, *size), application_json);
    }
    return not_found(v);
  }
  return not_found(v);
}

reply headers_json(const request& req) {
  std::map<std::string, std::string> fields;
  for (const auto& f : req) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto [it, inserted] = fields.try_emplace(std::move(name), f.value());
    if (!inserted) (it->second += ", ") += f.value();
  }
  std::string body = "{";
  for (const auto& [name, value] : fields) {
    if (body.size() > 1) body += ',';
    body += json_escape(name);
    body += ':';
    body += json_escape(value);
  }
  body += '}';
  return make(req.version(), http::status::ok, std::move(body), application_json);
}

// The final response `then`, prefaced by `count` interim responses `code`.
reply interim(unsigned version, unsigned code, unsigned count, unsigned then) {
  auto r = make(version, then, "final " + std::to_string(then) + "\n");
  r.interim_code = code;
  r.interim_count = count;
  return r;
}

reply dispatch(const request& req, server_state& st) {
  const unsigned v = req.version();
  std::string_view target = req.target();
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);
  const profile& prof = st.cfg.prof;

  if (path == "/health") {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(monotonic_clock::now() - st.started);
    return make(v, http::status::ok,
                R"({"status":"ok","version":"1.2.3","checks":{"db":"ok"},"uptime_s":)" +
                    std::to_string(uptime.count()) + "}",
                application_json);
  }
  if (path == "/" || path == "/html") {
    return make(v, http::status::ok, std::string(html_page), "text/html; charset=utf-8");
  }
  if (auto rest = strip_prefix(path, "/status/")) {
    auto code = to_number(*rest);
    if (!code || *code < 100 || *code > 599) return bad_request(v, "status code must be 100..599");
    return make(v, static_cast<unsigned>(*code), "status " + std::to_string(*code));
  }
  if (auto rest = strip_prefix(path, "/delay/")) {
    auto ms = to_number(*rest);
    if (!ms || *ms > max_delay_ms) return bad_request(v, "delay must be 0..600000 ms");
    auto r = make(v, http::status::ok, "delayed " + std::to_string(*ms));
    r.kind = reply_kind::delayed;
    r.wait = std::chrono::milliseconds(*ms);
    return r;
  }
  if (path == "/admin" || path.starts_with("/admin/")) {
    if (prof.admin_requires_auth && req[http::field::authorization] != "Bearer " + st.cfg.token) {
      auto r = make(v, http::status::unauthorized, "unauthorized");
      r.res.set(http::field::www_authenticate, "Bearer");
      return r;
    }
    return make(v, http::status::ok, R"({"keys":["k1","k2"]})", application_json);
  }
  if (path == "/api" || path.starts_with("/api/")) {
    auto r = api(req, path, st);
    add_cors(r, req, prof);
    return r;
  }
  if (path == "/redirect-https") {
    if (!prof.redirect_to_https)
      return make(v, http::status::ok, std::string(html_page), "text/html; charset=utf-8");
    auto r = make(v, http::status::moved_permanently, "moved");
    r.res.set(http::field::location, "https://127.0.0.1:" + std::to_string(st.https_port) + "/");
    return r;
  }
  if (auto rest = strip_prefix(path, "/redirect/")) {
    auto n = to_number(*rest);
    if (!n || *n > max_redirects) return bad_request(v, "redirect count must be 0..1000");
    if (*n == 0) return make(v, http::status::ok, "done");
    auto r = make(v, http::status::found, "redirect");
    r.res.set(http::field::location, "/redirect/" + std::to_string(*n - 1));
    return r;
  }
  if (path == "/drip") {
    auto bytes = number_param(query, "bytes", 10);
    auto interval = number_param(query, "interval", 100);
    if (!bytes || !interval || *bytes > max_drip_bytes || *interval > max_drip_interval_ms)
      return bad_request(v, "drip allows bytes=0..1000000, interval=0..60000");
    auto r = make(v, http::status::ok, {}, octet_stream);
    r.kind = reply_kind::drip;
    r.size = *bytes;
    r.wait = std::chrono::milliseconds(*interval);
    return r;
  }
  if (path == "/reset") {
    auto code = number_param(query, "code", 2);
    if (!code || *code > max_h2_error) return bad_request(v, "reset allows code=0..13");
    auto r = make(v, http::status::ok, {}, octet_stream);
    r.kind = reply_kind::reset;
    r.h2_error = static_cast<std::uint32_t>(*code);
    return r;
  }
  if (path == "/garbage") {
    reply r;
    r.kind = reply_kind::garbage;
    return r;
  }
  if (path == "/huge-headers") {
    auto r = make(v, http::status::ok, "huge headers");
    const std::string filler(1000, 'x');
    for (int i = 0; i < 200; ++i) r.res.insert("X-Filler-" + std::to_string(i), filler);
    return r;
  }
  if (path == "/interim") {
    auto code = number_param(query, "code", 103);
    auto count = number_param(query, "count", 1);
    auto then = number_param(query, "then", 200);
    if (!code || !count || !then || *code < 100 || *code > 199 || *code == 101 || *count < 1 ||
        *count > max_interim_count || *then < 200 || *then > 599)
      return bad_request(v, "interim allows code=100..199 but 101, count=1..10, then=200..599");
    return interim(v, static_cast<unsigned>(*code), static_cast<unsigned>(*count),
                   static_cast<unsigned>(*then));
  }
  if (path == "/switching") return switching_reply();
  if (auto rest = strip_prefix(path, "/hostile/")) {
    if (*rest == "interim-then-final") return interim(v, 103, 1, 503);
    if (auto r = hostile_reply(*rest)) return std::move(*r);
    return make(v, http::status::not_found, "unknown hostile route; known: " + hostile_name_list() + "\n");
  }
  if (path == "/stall" || stops_reading(path)) {
    reply r;
    r.kind = reply_kind::stall;
    return r;
  }
  for (auto [prefix, kind] : {std::pair{std::string_view("/bytes/"), reply_kind::bytes},
                              std::pair{std::string_view("/chunked/"), reply_kind::chunked}}) {
    if (auto rest = strip_prefix(path, prefix)) {
      auto n = to_number(*rest);
      if (!n || *n > max_bytes_route) return bad_request(v, "size must be 0..100000000");
      auto r = make(v, http::status::ok, {}, octet_stream);
      r.kind = kind;
      r.size = *n;
      return r;
    }
  }
  if (path == "/echo") {
    if (req.method() != http::verb::post) {
      auto r = make(v, http::status::method_not_allowed, "method not allowed");
      r.res.set(http::field::allow, "POST");
      return r;
    }
    return make(v, http::status::ok, req.body(), req[http::field::content_type]);
  }
  if (path == "/headers") return headers_json(req);
  if (path == "/stats") {
    return make(v, http::status::ok,
                "{\"accepted\":" + std::to_string(st.accepted.load(std::memory_order_relaxed)) +
                    ",\"requests\":" + std::to_string(st.requests.load(std::memory_order_relaxed)) + "}",
                application_json);
  }
  if (path == "/control/freeze") {
    auto ms = number_param(query, "ms", max_freeze_ms + 1);
    if (!ms || *ms > max_freeze_ms) return bad_request(v, "freeze needs ms=0..600000");
    st.freeze_for(std::chrono::milliseconds(*ms));
    auto r = make(v, http::status::ok, "frozen " + std::to_string(*ms));
    r.bypass_freeze = true;
    return r;
  }
  return not_found(v);
}

}  // namespace

std::string file_store::put(std::string body) {
  for (char& c : body) c = static_cast<char>(c ^ 0x5A);
  std::lock_guard lock(mutex_);
  std::string id;
  do {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng_()));
    id = hex;
  } while (files_.contains(id));
  while (!order_.empty() && (files_.size() >= max_files || bytes_ + body.size() > max_bytes)) {
    auto it = files_.find(order_.front());
    bytes_ -= it->second.size();
    files_.erase(it);
    order_.pop_front();
  }
  bytes_ += body.size();
  order_.push_back(id);
  files_.emplace(id, std::move(body));
  return id;
}

std::optional<std::size_t> file_store::size(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (auto it = files_.find(id); it != files_.end()) return it->second.size();
  return std::nullopt;
}

std::optional<std::string> file_store::raw(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (auto it = files_.find(id); it != files_.end()) return it->second;
  return std::nullopt;
}

void server_state::freeze_for(nanoseconds d) {
  const auto until = (monotonic_clock::now() + d).time_since_epoch().count();
  auto current = frozen_until_.load(std::memory_order_relaxed);
  while (current < until && !frozen_until_.compare_exchange_weak(current, until, std::memory_order_relaxed)) {
  }
}

reply route(const request& req, server_state& st, bool tls) {
  reply r;
  if (!tls && st.cfg.redirect_plain && st.https_port != 0) {
    r = make(req.version(), http::status::moved_permanently, "moved");
    r.res.set(http::field::location,
              "https://127.0.0.1:" + std::to_string(st.https_port) + std::string(req.target()));
  } else {
    r = dispatch(req, st);
  }
  const bool faulty = r.kind == reply_kind::reset || r.kind == reply_kind::garbage;
  finish(r, req, st, tls, req.keep_alive() && !faulty);
  return r;
}

bool stops_reading(std::string_view target) { return target.substr(0, target.find('?')) == "/stall-window"; }

reply error_reply(http::status status, unsigned version, const server_state& st, bool tls) {
  reply r = make(version == 10 ? 10 : 11, status, std::string(http::obsolete_reason(status)) + "\n");
  request none;
  finish(r, none, st, tls, false);
  return r;
}

std::string_view pattern_slice(std::uint64_t offset, std::size_t len) {
  static const std::string pattern = [] {
    std::string s(pattern_max + 26, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  return std::string_view(pattern).substr(static_cast<std::size_t>(offset % 26), std::min(len, pattern_max));
}

}  // namespace watchpost::test_target
