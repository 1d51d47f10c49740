// Built-in suites, assembled from the same check and expectation values a file yields.
#include "watchpost/probes/preset.hpp"

#include <algorithm>
#include <stdexcept>

#include "watchpost/common/exit_error.hpp"

namespace watchpost::probes {

const std::vector<std::string>& deploy_preset_parts() {
  static const std::vector<std::string> parts = {"health", "admin", "cors", "redirect",
                                                 "hsts",   "tls",   "html"};
  return parts;
}

namespace {

check make_check(std::string name, std::string method, std::string path, expectation expect) {
  check c;
  c.name = std::move(name);
  c.request.method = std::move(method);
  c.request.path = text_template::literal(std::move(path));
  c.expect = std::move(expect);
  return c;
}

status_rule status_class(int klass) { return status_rule{{}, {klass}}; }

header_rule header_present(std::string name) {
  return header_rule{std::move(name), header_rule::op::present, {}, {}};
}

// The plain-HTTP twin of an https base URL: the given --http-url, else the same host on port 80.
std::string plain_url(const url& base, const std::string& http_url) {
  if (!http_url.empty()) {
    auto u = parse_url(http_url);
    if (auto* e = std::get_if<url_error>(&u)) throw usage_error("--http-url: " + e->message);
    if (std::get<url>(u).tls) throw usage_error("--http-url must be an http:// URL");
    url plain = std::get<url>(u);
    plain.target = "/";
    return plain.to_string();
  }
  url plain = base;
  plain.tls = false;
  plain.port = 80;
  plain.target = "/";
  return plain.to_string();
}

}  // namespace

suite deploy_preset(const std::string& base_url, const deploy_preset_options& options) {
  for (const auto& part : options.skip)
    if (std::find(deploy_preset_parts().begin(), deploy_preset_parts().end(), part) ==
        deploy_preset_parts().end())
      throw usage_error("--skip: unknown part '" + part +
                        "' (parts: health, admin, cors, redirect, hsts, tls, html)");
  auto base = parse_url(base_url);
  if (auto* e = std::get_if<url_error>(&base)) throw usage_error("URL: " + e->message);
  const url& target = std::get<url>(base);
  auto wanted = [&](const std::string& part) { return !options.skip.contains(part); };

  suite s;
  s.name = "deploy preset";
  s.file = "<preset deploy>";
  s.base_url = base_url;
  s.parallel = true;  // every part is independent

  if (wanted("health")) {
    expectation e;
    e.status = status_class(2);
    s.checks.push_back(
        make_check("health: GET " + options.health_path + " is 2xx", "GET", options.health_path, e));
  }
  if (wanted("admin")) {
    for (const auto& path : options.admin_paths) {
      expectation e;
      e.status = status_rule{{401, 403}, {}};
      s.checks.push_back(
          make_check("admin: " + path + " refuses requests without credentials", "GET", path, e));
    }
  }
  if (wanted("cors")) {
    expectation e;
    e.status = status_rule{{}, {2}};
    e.headers.push_back(header_present("Access-Control-Allow-Origin"));
    e.cors_no_wildcard_with_credentials = true;
    check c = make_check("cors: preflight on " + options.api_path + " allows a named origin", "OPTIONS",
                         options.api_path, e);
    c.request.headers = {{"Origin", text_template::literal(options.cors_origin)},
                         {"Access-Control-Request-Method", text_template::literal("GET")}};
    s.checks.push_back(std::move(c));
  }
  if (wanted("redirect")) {
    expectation e;
    e.redirect_to_https = true;
    e.redirect_allow_refused = true;
    const std::string plain = plain_url(target, options.http_url);
    s.checks.push_back(
        make_check("redirect: " + plain + " redirects to https (or refuses)", "GET", plain, e));
  }
  if (wanted("hsts")) {
    expectation e;
    e.headers.push_back(header_present("Strict-Transport-Security"));
    e.tls = tls_rule{};  // HSTS only means something on HTTPS
    s.checks.push_back(make_check("hsts: Strict-Transport-Security on HTTPS", "GET", "/", e));
  }
  if (wanted("tls")) {
    expectation e;
    e.tls = tls_rule{"1.2",
                     comparison{comparison::op::ge, static_cast<double>(options.min_cert_days),
                                ">= " + std::to_string(options.min_cert_days)},
                     std::nullopt};
    s.checks.push_back(
        make_check("tls: TLS >= 1.2, certificate valid >= " + std::to_string(options.min_cert_days) + " days",
                   "GET", options.health_path, e));
  }
  if (wanted("html")) {
    expectation e;
    e.status = status_class(2);
    std::string error;
    e.headers.push_back(
        header_rule{"Content-Type", header_rule::op::matches, {}, *pattern::compile("^text/html", error)});
    e.body.push_back(body_rule{body_rule::op::contains, text_template::literal("<html"), {}, 0});
    s.checks.push_back(make_check("html: / returns HTML", "GET", "/", e));
  }
  if (s.checks.empty()) throw usage_error("--skip left no checks to run");
  return s;
}

}  // namespace watchpost::probes
