#include "agent_fixture.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <variant>

#include "watchpost/probes/http_client.hpp"

namespace watchpost::agent_test {

namespace {
std::vector<std::string> agent_args(const std::string& config_path,
                                    const std::vector<std::string>& extra_args) {
  std::vector<std::string> args{"agent", config_path};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return args;
}
}  // namespace

running_agent::running_agent(const std::string& config_path, const std::vector<std::string>& extra_args)
    : process_(testing::watchpost_binary_path(), agent_args(config_path, extra_args)) {
  port_ = testing::read_agent_port(process_);
}

std::string running_agent::get(const std::string& path) const {
  return http_get("http://127.0.0.1:" + std::to_string(port_) + path);
}

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("watchpost-agent-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

namespace {
probes::result get_once(const std::string& url) {
  auto parsed = probes::parse_url(url);
  if (!std::holds_alternative<probes::url>(parsed))
    throw std::invalid_argument("http_get: not a URL: " + url);
  probes::request req;
  req.target = std::get<probes::url>(parsed);
  probes::client_options options;
  options.total_timeout = std::chrono::seconds(5);
  return probes::fetch(req, options);
}
}  // namespace

std::string http_get(const std::string& url) {
  auto res = get_once(url);
  if (!res.ok())
    throw std::runtime_error("GET " + url + " got no answer: " + std::string(probes::to_string(res.failure)) +
                             ": " + res.error);
  return std::move(res.body);
}

std::optional<std::string> try_http_get(const std::string& url) {
  auto res = get_once(url);
  if (!res.ok()) return std::nullopt;
  return std::move(res.body);
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

std::string require_installed(const std::string& binary, const std::string& package) {
  if (!std::filesystem::exists(binary))
    FAIL(binary << " is missing: apt-get install " << package << " (or scripts/install-deps.sh --test)");
  return binary;
}

void make_test_certificate(const std::string& dir) {
  require_installed("/usr/bin/openssl", "openssl");
  const std::string command =
      "/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem > /dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
}

}  // namespace watchpost::agent_test
