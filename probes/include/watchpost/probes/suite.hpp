#pragma once
// Smoke suites: a YAML file of ordered checks with captures, loaded into a value and run
// on one io_context (sequentially, or concurrently where checks do not depend on each other).
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "watchpost/probes/check.hpp"
#include "watchpost/probes/http_types.hpp"
#include "watchpost/probes/redact.hpp"
#include "watchpost/probes/variables.hpp"

namespace watchpost::probes {

struct capture_rule {
  enum class source { json, header, regex };
  std::string name;
  source from = source::json;
  jsonpath path;       // json
  std::string header;  // header
  pattern regex;       // regex over the body: group 1 if present, else the whole match
  bool secret = false;
};

struct request_template {
  std::string method = "GET";
  text_template path;  // "/path?q" relative to the base URL, or an absolute http(s) URL
  std::vector<std::pair<std::string, text_template>> headers;
  text_template body;
};

struct check {
  std::string name;
  request_template request;
  expectation expect;
  std::vector<capture_rule> captures;
  int retries = 0;
  nanoseconds retry_interval = std::chrono::seconds(1);
  std::optional<nanoseconds> timeout;   // else the suite default
  std::optional<http_version> version;  // `http_version:`, else the suite's
  std::set<std::string> needs;          // capture names this check uses
};

struct suite {
  std::string name;
  std::string file;      // where it came from ("<preset deploy>" for presets)
  std::string base_url;  // may be empty when every run passes one
  nanoseconds timeout = std::chrono::seconds(5);
  http_version version = http_version::auto_;  // `http_version:`; --http2 / --http1.1 replace it
  std::vector<std::pair<std::string, std::string>> default_headers;
  bool parallel = false;
  std::vector<check> checks;
  // Secrets seen while loading (${env:...}, credential headers, `secret: true`).
  std::shared_ptr<redactor> secrets = std::make_shared<redactor>();
};

// Reads and validates a suite file. Throws config_error (file:line:col) for malformed YAML,
// unknown keys, wrong types, bad JSONPath/regex/durations and unknown ${variables}.
suite load_suite(const std::string& path, const std::map<std::string, std::string>& vars);
suite parse_suite(const config_file& file, const std::map<std::string, std::string>& vars);

struct suite_result {
  std::string suite_name;
  std::string target;  // the base URL
  std::vector<check_outcome> checks;
  nanoseconds duration{0};
  std::chrono::system_clock::time_point started{};

  bool passed() const;
  std::size_t failed_count() const;
  std::size_t skipped_count() const;
};

// Runs every check against base_url (the suite's own when empty). Never throws for
// network faults: they are outcomes. Secret captures are added to suite.secrets, one slot per
// target, check and capture name: the next run's value replaces the previous one.
boost::asio::awaitable<suite_result> run_suite(const suite& s, std::string base_url,
                                               const client_options& options);

// Polls the suite's first check until the target answers with any HTTP response or `budget`
// runs out; returns whether it became ready.
boost::asio::awaitable<bool> wait_ready(const suite& s, std::string base_url, const client_options& options,
                                        nanoseconds budget);

// Runs the suite against every target concurrently on a private io_context (one thread).
// When wait_budget is set, each target is first awaited; a target that never becomes ready
// yields nullopt in its slot.
std::vector<std::optional<suite_result>> run_suite_on_targets(
    const suite& s, const std::vector<std::string>& targets, const client_options& options,
    std::optional<nanoseconds> wait_budget = std::nullopt);

// The URL a check's rendered path means against base_url.
std::variant<url, url_error> resolve_check_url(const std::string& base_url, const std::string& path);

}  // namespace watchpost::probes
