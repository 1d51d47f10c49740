#pragma once
// Built-in suites. `deploy`: deployment hygiene for any URL, built as an ordinary suite value
// (same runner, same reports).
#include <set>
#include <string>
#include <vector>

#include "watchpost/probes/suite.hpp"

namespace watchpost::probes {

struct deploy_preset_options {
  std::string health_path = "/health";
  std::vector<std::string> admin_paths = {"/admin"};
  std::string api_path = "/api/info";
  std::string http_url;  // plain listener; empty: same host, port 80
  int min_cert_days = 14;
  std::string cors_origin = "https://watchpost.invalid";
  std::set<std::string> skip;  // part names below
};

// Part names: health, admin, cors, redirect, hsts, tls, html.
const std::vector<std::string>& deploy_preset_parts();

// Throws usage_error for an unknown part in skip or a bad http_url.
suite deploy_preset(const std::string& base_url, const deploy_preset_options& options);

}  // namespace watchpost::probes
