#include "watchpost/agent/outbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "watchpost/common/text_file.hpp"

namespace watchpost::agent {

namespace json = boost::json;

namespace {
std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool write_all(int fd, const std::string& content) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace

std::optional<std::string> ensure_directory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return "cannot create directory " + path + ": " + ec.message();
  if (::access(path.c_str(), W_OK) != 0) return errno_text("cannot write to directory", path);
  return std::nullopt;
}

std::optional<std::string> write_file_durably(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("cannot create", temp);
  if (!write_all(fd, content) || ::fsync(fd) != 0) {
    auto error = errno_text("cannot write", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return error;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto error = errno_text("cannot rename onto", path);
    ::unlink(temp.c_str());
    return error;
  }
  // The rename is only durable once the directory entry is.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno_text("cannot open directory", dir);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return errno_text("cannot fsync directory", dir);
  return std::nullopt;
}

std::string outbox_event::file_name() const {
  // FNV-1a keeps names short and free of the target's characters; the id is inside the file.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : event_id + "#" + std::to_string(webhook_index)) h = (h ^ c) * 1099511628211ull;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx.json", static_cast<unsigned long long>(h));
  return buf;
}

outbox::outbox(std::string directory) : directory_(std::move(directory)) {}

std::optional<std::string> outbox::put(const outbox_event& event) {
  if (auto error = ensure_directory(directory_)) return error;
  json::object o;
  o["event_id"] = event.event_id;
  o["target"] = event.target;
  o["webhook"] = event.webhook_index;
  o["body"] = event.body;
  return write_file_durably(directory_ + "/" + event.file_name(), json::serialize(o));
}

std::optional<std::string> outbox::remove(const outbox_event& event) {
  const std::string path = directory_ + "/" + event.file_name();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_text("cannot remove", path);
  return std::nullopt;
}

std::vector<outbox_event> outbox::load(std::vector<std::string>& errors) const {
  std::vector<outbox_event> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, ec)) {
    const auto path = entry.path();
    if (path.extension() != ".json") continue;  // leftovers of an interrupted write end in .tmp
    auto text = read_text_file(path.string());
    try {
      if (!text) throw std::runtime_error("unreadable");
      const json::object o = json::parse(*text).as_object();
      outbox_event e;
      e.event_id = json::value_to<std::string>(o.at("event_id"));
      e.target = json::value_to<std::string>(o.at("target"));
      e.webhook_index = json::value_to<std::size_t>(o.at("webhook"));
      e.body = json::value_to<std::string>(o.at("body"));
      out.push_back(std::move(e));
    } catch (const std::exception&) {
      errors.push_back("outbox file " + path.string() + " is corrupt; skipped");
    }
  }
  return out;
}

void state_snapshot::add(const std::string& name, const target_window_state& st) {
  json::object t;
  t["burn"] = st.burn_ring.serialize();
  t["window"] = st.window_ring.serialize();
  t["uptime_1h"] = st.hour_ring.serialize();
  t["uptime_24h"] = st.day_ring.serialize();
  json::array slos;
  for (const auto& s : st.slos) {
    slos.push_back(json::object{{"breached", s.breached},
                                {"event_open", s.event_open},
                                {"breach_started_ms", s.breach_started_ms},
                                {"last_breach_event_ms", s.last_breach_event_ms},
                                {"clear_since_ms", s.clear_since_ms},
                                {"observed", s.observed},
                                {"alert_window", s.alert_window}});
  }
  t["slos"] = std::move(slos);
  if (!entries_.empty()) entries_ += ',';
  entries_.append(json::serialize(json::string(name))).append(":").append(json::serialize(t));
}

std::string state_snapshot::text() const { return "{\"version\":1,\"targets\":{" + entries_ + "}}"; }

void restore_states(const std::string& text, std::map<std::string, target_window_state*>& states) {
  json::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec || !root.is_object() || !root.as_object().contains("targets")) return;
  for (const auto& [key, value] : root.at("targets").as_object()) {
    auto it = states.find(std::string(key));
    if (it == states.end() || !value.is_object()) continue;
    try {
      const auto& t = value.as_object();
      // The uptime rings have one geometry for every target: they outlive a changed SLO.
      it->second->hour_ring.parse(json::value_to<std::string>(t.at("uptime_1h")));
      it->second->day_ring.parse(json::value_to<std::string>(t.at("uptime_24h")));
      target_window_state restored = *it->second;
      if (!restored.burn_ring.parse(json::value_to<std::string>(t.at("burn"))) ||
          !restored.window_ring.parse(json::value_to<std::string>(t.at("window"))))
        continue;
      const auto& slos = t.at("slos").as_array();
      if (slos.size() == restored.slos.size()) {
        for (std::size_t i = 0; i < slos.size(); ++i) {
          const auto& s = slos[i].as_object();
          auto& st = restored.slos[i];
          st.breached = s.at("breached").as_bool();
          st.event_open = s.at("event_open").as_bool();
          st.breach_started_ms = s.at("breach_started_ms").to_number<std::int64_t>();
          st.last_breach_event_ms = s.at("last_breach_event_ms").to_number<std::int64_t>();
          st.clear_since_ms = s.at("clear_since_ms").to_number<std::int64_t>();
          st.observed = s.at("observed").to_number<double>();
          st.alert_window = json::value_to<std::string>(s.at("alert_window"));
        }
      }
      *it->second = std::move(restored);
    } catch (const std::exception&) {
      // A snapshot from another version: start that target from empty windows.
    }
  }
}

}  // namespace watchpost::agent
