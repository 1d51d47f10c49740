#include "watchpost/agent/outbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "watchpost/common/errno_text.hpp"
#include "watchpost/common/text_file.hpp"

namespace watchpost::agent {

namespace json = boost::json;

namespace {
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

json::object to_json(const outbox_event& e) {
  return {{"seq", e.seq},  {"event_id", e.event_id}, {"target", e.target},       {"hook", e.hook},
          {"slo", e.slo},  {"resolved", e.resolved}, {"breach_ms", e.breach_ms}, {"raised_ms", e.raised_ms},
          {"body", e.body}};
}

outbox_event from_json(const json::object& o) {
  outbox_event e;
  e.seq = json::value_to<std::uint64_t>(o.at("seq"));
  e.event_id = json::value_to<std::string>(o.at("event_id"));
  e.target = json::value_to<std::string>(o.at("target"));
  e.hook = json::value_to<std::string>(o.at("hook"));
  e.slo = json::value_to<std::string>(o.at("slo"));
  e.resolved = o.at("resolved").as_bool();
  e.breach_ms = o.at("breach_ms").to_number<std::int64_t>();
  e.raised_ms = o.at("raised_ms").to_number<std::int64_t>();
  e.body = json::value_to<std::string>(o.at("body"));
  return e;
}

// The previous format: {event_id: "<target>:<slo>:<breach ms>:<kind>", target, webhook: index, body}.
std::optional<outbox_event> from_legacy(const json::object& o, const std::filesystem::path& path,
                                        const outbox::legacy_hook& legacy) {
  outbox_event e;
  e.event_id = json::value_to<std::string>(o.at("event_id"));
  e.target = json::value_to<std::string>(o.at("target"));
  e.body = json::value_to<std::string>(o.at("body"));
  const auto kind_at = e.event_id.rfind(':');
  const auto ms_at = e.event_id.rfind(':', kind_at - 1);
  const auto slo_at = e.event_id.rfind(':', ms_at - 1);
  if (kind_at == std::string::npos || ms_at == std::string::npos || slo_at == std::string::npos)
    return std::nullopt;
  e.resolved = e.event_id.substr(kind_at + 1) == "resolved";
  e.breach_ms = std::stoll(e.event_id.substr(ms_at + 1, kind_at - ms_at - 1));
  e.slo = e.event_id.substr(slo_at + 1, ms_at - slo_at - 1);
  const auto written = std::chrono::file_clock::to_sys(std::filesystem::last_write_time(path));
  e.raised_ms = std::chrono::duration_cast<std::chrono::milliseconds>(written.time_since_epoch()).count();
  if (legacy) e.hook = legacy(e.target, json::value_to<std::size_t>(o.at("webhook")));
  if (e.hook.empty()) return std::nullopt;
  return e;
}

}  // namespace

std::optional<std::string> ensure_directory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return "cannot create directory " + path + ": " + ec.message();
  if (::access(path.c_str(), W_OK) != 0) return errno_text("cannot write to directory " + path, errno);
  return std::nullopt;
}

std::optional<std::string> write_file_durably(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("cannot create " + temp, errno);
  if (!write_all(fd, content) || ::fsync(fd) != 0) {
    auto error = errno_text("cannot write " + temp, errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return error;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto error = errno_text("cannot rename onto " + path, errno);
    ::unlink(temp.c_str());
    return error;
  }
  // The rename is only durable once the directory entry is.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno_text("cannot open directory " + dir, errno);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return errno_text("cannot fsync directory " + dir, errno);
  return std::nullopt;
}

std::string outbox_event::file_name() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.json", static_cast<unsigned long long>(seq));
  return buf;
}

outbox::outbox(std::string directory, std::size_t max_events)
    : directory_(std::move(directory)), limit_(max_events) {}

put_result outbox::put(outbox_event& event, std::string& error) {
  // Reserve a place first: concurrent workers never overshoot the limit.
  if (held_.fetch_add(1) >= limit_.load() && !event.resolved) {
    held_.fetch_sub(1);
    return put_result::full;
  }
  event.seq = next_seq_.fetch_add(1);
  if (auto e = ensure_directory(directory_)) {
    error = *e;
    return put_result::failed;
  }
  if (auto e = write_file_durably(directory_ + "/" + event.file_name(), json::serialize(to_json(event)))) {
    error = *e;
    return put_result::failed;
  }
  return put_result::stored;
}

std::optional<std::string> outbox::remove(const outbox_event& event) {
  held_.fetch_sub(1);
  const std::string path = directory_ + "/" + event.file_name();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_text("cannot remove " + path, errno);
  return std::nullopt;
}

std::vector<outbox_event> outbox::load(std::vector<std::string>& errors, const legacy_hook& legacy) {
  std::vector<outbox_event> out;
  std::vector<std::pair<outbox_event, std::filesystem::path>> adopted;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, ec)) {
    const auto path = entry.path();
    if (path.extension() != ".json") continue;  // leftovers of an interrupted write end in .tmp
    auto text = read_text_file(path.string());
    try {
      if (!text) throw std::runtime_error("unreadable");
      const json::object o = json::parse(*text).as_object();
      if (!o.contains("seq")) {
        auto e = from_legacy(o, path, legacy);
        if (!e) throw std::runtime_error("a hook no longer configured");
        adopted.emplace_back(std::move(*e), path);
        continue;
      }
      outbox_event e = from_json(o);
      if (e.file_name() != path.filename().string()) throw std::runtime_error("renamed");
      out.push_back(std::move(e));
    } catch (const std::exception& ex) {
      errors.push_back("outbox file " + path.string() + " skipped: " + ex.what());
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  if (!out.empty()) next_seq_ = out.back().seq + 1;
  std::sort(adopted.begin(), adopted.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.breach_ms, a.first.resolved) < std::pair(b.first.breach_ms, b.first.resolved);
  });
  for (auto& [e, old_path] : adopted) {
    e.seq = next_seq_.fetch_add(1);
    // Written before the old file goes: a crash in between sends the event twice, under its id.
    if (auto error = write_file_durably(directory_ + "/" + e.file_name(), json::serialize(to_json(e)))) {
      errors.push_back(*error);
      continue;
    }
    std::filesystem::remove(old_path, ec);
    out.push_back(std::move(e));
  }
  held_ = out.size();
  return out;
}

void reconcile(target_window_state& state, const std::vector<slo_objective>& objectives,
               const outbox_event& e) {
  for (std::size_t i = 0; i < objectives.size() && i < state.slos.size(); ++i) {
    if (objectives[i].name != e.slo) continue;
    slo_status& st = state.slos[i];
    auto hook = std::find_if(st.hooks.begin(), st.hooks.end(),
                             [&](const hook_status& h) { return h.hook == e.hook; });
    if (hook == st.hooks.end()) hook = st.hooks.insert(st.hooks.end(), hook_status{e.hook});
    if (!e.resolved && e.breach_ms > st.breach_started_ms) {
      // A breach the snapshot never saw: it is open, and owes its resolved.
      st.breached = true;
      st.event_open = true;
      st.breach_started_ms = st.last_breach_event_ms = e.breach_ms;
      st.clear_since_ms = -1;
      for (auto& h : st.hooks) h.open = false;
    }
    if (!e.resolved && st.breached && e.breach_ms == st.breach_started_ms) {
      hook->open = true;
      hook->last_breach_event_ms = std::max(hook->last_breach_event_ms, e.breach_ms);
    }
    if (e.resolved && st.breached && e.breach_ms == st.breach_started_ms) {
      st.breached = st.event_open = false;
      st.clear_since_ms = -1;
      for (auto& h : st.hooks) h.open = false;
    }
  }
}

void state_snapshot::add(const std::string& name, const target_window_state& st) {
  json::object t;
  t["burn"] = st.burn_ring.serialize();
  t["window"] = st.window_ring.serialize();
  t["uptime_1h"] = st.hour_ring.serialize();
  t["uptime_24h"] = st.day_ring.serialize();
  json::array slos;
  for (const auto& s : st.slos) {
    json::array hooks;
    for (const auto& h : s.hooks)
      hooks.push_back(
          json::object{{"hook", h.hook}, {"last_breach_event_ms", h.last_breach_event_ms}, {"open", h.open}});
    slos.push_back(json::object{{"hooks", std::move(hooks)},
                                {"breached", s.breached},
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
          st.hooks.clear();
          if (const auto* hooks = s.if_contains("hooks")) {
            for (const auto& h : hooks->as_array())
              st.hooks.push_back({json::value_to<std::string>(h.at("hook")),
                                  h.at("last_breach_event_ms").to_number<std::int64_t>(),
                                  h.at("open").as_bool()});
          } else {
            // A snapshot from before per-hook state: every hook was sent what the target was.
            st.hooks.push_back({std::string(any_hook), st.last_breach_event_ms, st.event_open});
          }
        }
      }
      *it->second = std::move(restored);
    } catch (const std::exception&) {
      // A snapshot from another version: start that target from empty windows.
    }
  }
}

}  // namespace watchpost::agent
