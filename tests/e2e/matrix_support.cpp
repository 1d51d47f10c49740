#include "matrix_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace watchpost::e2e {

namespace json = boost::json;
using steady = std::chrono::steady_clock;

namespace {

// Enough of a process's output to see what went wrong without flooding the log.
std::string excerpt(const std::string& text) {
  constexpr std::size_t limit = 2000;
  return text.size() <= limit ? text
                              : text.substr(0, limit) + "... (" + std::to_string(text.size()) + " bytes)";
}

// Parses `text` and hands its root object to `read`; a parse or shape error becomes the answer.
std::string read_json(const std::string& text, const std::function<std::string(const json::object&)>& read) {
  try {
    return read(json::parse(text).as_object());
  } catch (const std::exception& e) {
    return "unreadable: " + std::string(e.what());
  }
}

// The label block `{...}` holds `name="value"` as a whole label.
bool has_label(std::string_view block, std::string_view wanted) {
  for (std::size_t at = block.find(wanted); at != std::string_view::npos; at = block.find(wanted, at + 1))
    if (at > 0 && (block[at - 1] == '{' || block[at - 1] == ',')) return true;
  return false;
}

// Calls `visit(label block, value)` for every sample of `metric` carrying all of `labels`.
void for_each_sample(const std::string& exposition, std::string_view metric,
                     const std::vector<std::string>& labels,
                     const std::function<void(std::string_view, double)>& visit) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(metric)) continue;
    const std::string_view rest = std::string_view(line).substr(metric.size());
    std::string_view block;
    std::size_t value_at = 0;
    if (rest.starts_with("{")) {
      const auto close = rest.find("} ");
      if (close == std::string_view::npos) continue;
      block = rest.substr(0, close + 1);
      value_at = close + 2;
    } else if (rest.starts_with(" ")) {
      value_at = 1;
    } else {
      continue;  // a longer metric name that starts with this one
    }
    bool all = true;
    for (const auto& l : labels) all = all && has_label(block, l);
    if (all) visit(block, std::stod(std::string(rest.substr(value_at))));
  }
}

}  // namespace

std::string outcome_set(const std::map<std::string, double>& counts) {
  std::string single, all;
  std::size_t kinds = 0;
  for (const auto& [kind, n] : counts) {
    if (n <= 0) continue;
    ++kinds;
    single = kind;
    std::ostringstream one;
    one << kind << '=' << n;
    all += (all.empty() ? "" : ",") + one.str();
  }
  if (kinds == 0) return "nothing";
  return kinds == 1 ? single : all;
}

observation run_mode(const std::vector<std::string>& args,
                     const std::function<std::string(const std::string& stdout_text)>& reported) {
  const auto r = testing::run_watchpost(args, {}, std::chrono::minutes(1));
  observation o;
  o.reported = reported(r.out);
  o.exit_code = r.exit_code;
  o.wall = std::chrono::duration_cast<std::chrono::milliseconds>(r.wall);
  std::string command = "watchpost";
  for (const auto& a : args) command += " " + a;
  o.detail = command + "\nstdout: " + excerpt(r.out) + "\nstderr: " + excerpt(r.err);
  return o;
}

std::string probe_reported(const std::string& json_text) {
  return read_json(json_text, [](const json::object& o) { return std::string(o.at("result").as_string()); });
}

std::string smoke_reported(const std::string& json_text) {
  return read_json(json_text, [](const json::object& o) {
    std::map<std::string, double> results;
    for (const auto& check : o.at("targets").as_array().at(0).as_object().at("checks").as_array())
      ++results[std::string(check.as_object().at("result").as_string())];
    return outcome_set(results);
  });
}

std::string load_reported(const std::string& json_text) {
  return read_json(json_text, [](const json::object& o) {
    const auto& totals = o.at("totals").as_object();
    // "requests" counts every finished request, failed ones too.
    std::map<std::string, double> outcomes{
        {"ok", json::value_to<double>(totals.at("requests")) - json::value_to<double>(totals.at("errors"))}};
    for (const auto& [kind, n] : totals.at("errors_by_kind").as_object())
      outcomes[std::string(kind)] = json::value_to<double>(n);
    return outcome_set(outcomes);
  });
}

std::uint64_t load_total(const std::string& json_text, std::string_view name) {
  try {
    const auto doc = json::parse(json_text);
    const auto* n = doc.as_object().at("totals").as_object().if_contains(name);
    return n ? json::value_to<std::uint64_t>(*n) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

scratch_dir::scratch_dir(const std::string& name)
    : dir_(std::filesystem::temp_directory_path() /
           ("watchpost-e2e-" + name + "-" + std::to_string(::getpid()))) {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

scratch_dir::~scratch_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string scratch_dir::write(const std::string& name, const std::string& text) const {
  const std::string p = path(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

agent_process::agent_process(const std::string& config_path)
    : process_(testing::watchpost_binary_path(), {"agent", config_path}) {
  port_ = testing::read_agent_port(process_);
}

std::string agent_process::metrics() const {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  static constexpr std::string_view request =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    const auto deadline = steady::now() + std::chrono::seconds(5);
    char buf[65536];
    while (steady::now() < deadline) {  // bounded: the agent closes after its answer
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

double sample_sum(const std::string& exposition, std::string_view metric,
                  const std::vector<std::string>& labels) {
  double sum = 0;
  for_each_sample(exposition, metric, labels, [&](std::string_view, double value) { sum += value; });
  return sum;
}

std::map<std::string, double> samples_by(const std::string& exposition, std::string_view metric,
                                         const std::vector<std::string>& labels, std::string_view by) {
  std::map<std::string, double> out;
  const std::string key = std::string(by) + "=\"";
  for_each_sample(exposition, metric, labels, [&](std::string_view block, double value) {
    for (std::size_t at = block.find(key); at != std::string_view::npos; at = block.find(key, at + 1)) {
      if (block[at - 1] != '{' && block[at - 1] != ',') continue;
      const auto start = at + key.size();
      out[std::string(block.substr(start, block.find('"', start) - start))] += value;
      return;
    }
  });
  return out;
}

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + std::string(value) + "\"";
}

}  // namespace watchpost::e2e
