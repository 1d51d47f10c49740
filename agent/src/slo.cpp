#include "watchpost/agent/slo.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

namespace watchpost::agent {

namespace {
std::int64_t millis(wall_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
std::uint32_t bad_of(const slo_objective& o, const slice_counts& c) {
  return o.counts_slow ? c.slow : c.failed;
}
double ratio(std::uint32_t part, std::uint32_t total) {
  return total ? static_cast<double>(part) / total : 0.0;
}
}  // namespace

slice_ring::slice_ring(nanoseconds slice, std::size_t length, bool count_slow)
    : slice_(slice), fields_(count_slow ? 3 : 2), counts_(length * fields_) {}

std::int64_t slice_ring::index_at(wall_time t) const {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count() / slice_.count();
}

std::size_t slice_ring::offset(std::int64_t index) const {
  const auto n = static_cast<std::int64_t>(length());
  return static_cast<std::size_t>((index % n + n) % n) * fields_;
}

slice_counts slice_ring::at(std::size_t offset) const {
  return {counts_[offset], counts_[offset + 1], fields_ == 3 ? counts_[offset + 2] : 0u};
}

void slice_ring::set(std::int64_t index, const slice_counts& c) {
  const std::size_t o = offset(index);
  counts_[o] = c.total;
  counts_[o + 1] = c.failed;
  if (fields_ == 3) counts_[o + 2] = c.slow;
}

void slice_ring::advance_to(std::int64_t index) {
  const auto n = static_cast<std::int64_t>(length());
  if (index > newest_ && index - newest_ < n) {
    for (std::int64_t i = newest_ + 1; i <= index; ++i) set(i, {});
  } else if (index != newest_) {
    std::fill(counts_.begin(), counts_.end(), 0u);
  }
  newest_ = index;
}

void slice_ring::record(wall_time at, const slice_counts& delta) {
  if (counts_.empty()) return;
  const std::int64_t index = index_at(at);
  // A slice behind the newest but still in the ring is counted where it belongs.
  if (index > newest_ || index <= newest_ - static_cast<std::int64_t>(length())) advance_to(index);
  const std::size_t o = offset(index);
  counts_[o] += delta.total;
  counts_[o + 1] += delta.failed;
  if (fields_ == 3) counts_[o + 2] += delta.slow;
}

slice_counts slice_ring::sum(wall_time now, nanoseconds window) const {
  slice_counts out;
  if (counts_.empty()) return out;
  const std::int64_t newest = index_at(now);
  const auto n = static_cast<std::int64_t>(length());
  // The current, partial slice counts whole: windows are at least one slice wide.
  const std::int64_t count =
      std::clamp<std::int64_t>((window.count() + slice_.count() - 1) / slice_.count(), 1, n);
  const std::int64_t last = std::min(newest, newest_);
  for (std::int64_t i = std::max(newest - count, newest_ - n) + 1; i <= last; ++i) out.add(at(offset(i)));
  return out;
}

std::string slice_ring::serialize() const {
  std::ostringstream out;
  out << slice_.count() << ' ' << length();
  const auto n = static_cast<std::int64_t>(length());
  for (std::int64_t i = std::max<std::int64_t>(newest_ - n + 1, 0); i <= newest_; ++i) {
    const slice_counts c = at(offset(i));
    if (c.total || c.failed || c.slow) out << ' ' << i << ':' << c.total << ':' << c.failed << ':' << c.slow;
  }
  return out.str();
}

bool slice_ring::parse(const std::string& text) {
  std::istringstream in(text);
  std::int64_t slice_ns = 0;
  std::size_t length = 0;
  if (!(in >> slice_ns >> length) || slice_ns != slice_.count() || length != this->length()) return false;
  std::vector<std::pair<std::int64_t, slice_counts>> items;
  std::string item;
  while (in >> item) {
    std::int64_t index = -1;
    slice_counts c;
    char c1 = 0, c2 = 0, c3 = 0;
    std::istringstream fields(item);
    if (!(fields >> index >> c1 >> c.total >> c2 >> c.failed >> c3 >> c.slow) || index < 0) return false;
    items.emplace_back(index, c);
  }
  if (counts_.empty()) return true;  // a ring without slots (no SLO) restores nothing
  std::fill(counts_.begin(), counts_.end(), 0u);
  newest_ = -1;
  for (const auto& [index, c] : items) newest_ = std::max(newest_, index);
  for (const auto& [index, c] : items)
    if (index > newest_ - static_cast<std::int64_t>(length)) set(index, c);
  return true;
}

std::vector<slo_objective> objectives_of(const slo_config& slo) {
  std::vector<slo_objective> out;
  if (slo.availability) out.push_back({"availability", 1.0 - *slo.availability, *slo.availability, false});
  if (slo.latency_quantile) {
    const int q = static_cast<int>(*slo.latency_quantile * 100 + 0.5);
    out.push_back(
        {"latency_p" + std::to_string(q), 1.0 - *slo.latency_quantile, to_seconds(slo.latency_bound), true});
  }
  if (slo.error_rate) out.push_back({"error_rate", *slo.error_rate, *slo.error_rate, false});
  return out;
}

target_window_state target_window_state::make(const target_config& target) {
  using namespace std::chrono;
  target_window_state st;
  const slo_config& slo = target.slo;
  if (!slo.empty()) {
    const burn_ring_geometry ring = burn_ring_for(slo.burn_alerts);
    st.burn_ring = slice_ring(ring.slice, ring.slots);
    st.slos.resize(objectives_of(slo).size());
    constexpr std::size_t window_slices = 288;  // the budget is within 1/288 of the window
    st.window_ring =
        slice_ring(std::max<nanoseconds>(slo.window / window_slices, seconds(1)), window_slices + 1);
  }
  st.hour_ring = slice_ring(minutes(1), 61, false);
  st.day_ring = slice_ring(minutes(15), 97, false);
  return st;
}

void target_window_state::record(wall_time at, bool ok, bool slow) {
  const slice_counts delta{1, ok ? 0u : 1u, (slow || !ok) ? 1u : 0u};
  for (slice_ring* ring : {&burn_ring, &window_ring, &hour_ring, &day_ring}) ring->record(at, delta);
}

double target_window_state::uptime_ratio(wall_time now, nanoseconds window) const {
  auto span = [](const slice_ring* r) { return r->slice() * static_cast<std::int64_t>(r->length()); };
  const slice_ring* finest = nullptr;  // the finest ring that spans the window
  const slice_ring* longest = &hour_ring;
  for (const slice_ring* r : {&hour_ring, &day_ring, &window_ring}) {
    if (r->length() == 0) continue;
    if (span(r) > window && (!finest || r->slice() < finest->slice())) finest = r;
    if (span(r) > span(longest)) longest = r;
  }
  const slice_counts c = (finest ? finest : longest)->sum(now, window);
  return c.total ? 1.0 - ratio(c.failed, c.total) : 1.0;
}

std::vector<std::optional<double>> error_budget_remaining(const slo_config& slo,
                                                          const target_window_state& state, wall_time now) {
  std::vector<std::optional<double>> out;
  const slice_counts c = state.window_ring.sum(now, slo.window);
  for (const slo_objective& obj : objectives_of(slo)) {
    if (c.total == 0 || c.total < slo.min_requests) {
      out.emplace_back();
      continue;
    }
    out.emplace_back(1.0 - static_cast<double>(bad_of(obj, c)) / (obj.budget * c.total));
  }
  return out;
}

void sync_hooks(const target_config& target, slo_status& status) {
  const auto& hooks = target.on_breach;
  bool same = status.hooks.size() == hooks.size();
  for (std::size_t i = 0; same && i < hooks.size(); ++i)
    same = status.hooks[i].hook == hooks[i].url.to_string();
  if (same) return;
  std::vector<hook_status> next;
  for (const auto& h : hooks) {
    hook_status hs{h.url.to_string()};
    for (const auto& old : status.hooks)
      if (old.hook == hs.hook || old.hook == any_hook) hs = {hs.hook, old.last_breach_event_ms, old.open};
    next.push_back(std::move(hs));
  }
  status.hooks = std::move(next);
}

evaluation evaluate(const target_config& target, target_window_state& state, wall_time now) {
  evaluation out;
  const auto objectives = objectives_of(target.slo);
  if (objectives.empty() || state.slos.size() != objectives.size()) return out;
  nanoseconds hold{0};
  for (const auto& a : target.slo.burn_alerts) hold = std::max(hold, a.short_window);
  const std::int64_t now_ms = millis(now);
  const auto hold_ms = std::chrono::duration_cast<std::chrono::milliseconds>(hold).count();

  out.burn.resize(objectives.size());
  for (std::size_t i = 0; i < objectives.size(); ++i) {
    const slo_objective& obj = objectives[i];
    slo_status& st = state.slos[i];
    bool firing = false;
    double observed = 0.0;
    std::string fired_window;
    for (const auto& alert : target.slo.burn_alerts) {
      const slice_counts lw = state.burn_ring.sum(now, alert.long_window);
      const slice_counts sw = state.burn_ring.sum(now, alert.short_window);
      const double burn_long = ratio(bad_of(obj, lw), lw.total) / obj.budget;
      const double burn_short = ratio(bad_of(obj, sw), sw.total) / obj.budget;
      out.burn[i].push_back({window_label(alert.long_window), burn_long});
      out.burn[i].push_back({window_label(alert.short_window), burn_short});
      if (!firing && lw.total >= target.slo.min_requests && lw.total > 0 && burn_long >= alert.factor &&
          burn_short >= alert.factor) {
        firing = true;
        observed = ratio(bad_of(obj, lw), lw.total);
        fired_window = window_label(alert.long_window) + "/" + window_label(alert.short_window);
      }
    }
    const std::string id_prefix = target.name + ":" + obj.name + ":";
    if (firing) {
      st.clear_since_ms = -1;
      if (!st.breached) {
        st.breached = true;
        st.breach_started_ms = now_ms;
        st.observed = observed;
        st.alert_window = fired_window;
        sync_hooks(target, st);
        std::vector<std::size_t> send;
        for (std::size_t h = 0; h < st.hooks.size(); ++h) {
          hook_status& hs = st.hooks[h];
          const auto cooldown_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(target.on_breach[h].cooldown).count();
          if (hs.last_breach_event_ms >= 0 && now_ms - hs.last_breach_event_ms < cooldown_ms) continue;
          hs.open = true;
          hs.last_breach_event_ms = now_ms;
          send.push_back(h);
        }
        if (!send.empty() || st.hooks.empty()) {
          st.event_open = true;
          st.last_breach_event_ms = now_ms;
          out.decisions.push_back({i, slo_event_kind::breached, std::move(send), now_ms,
                                   id_prefix + std::to_string(now_ms) + ":breached", observed,
                                   obj.threshold_display, fired_window});
        }
      }
    } else if (st.breached) {
      if (st.clear_since_ms < 0) st.clear_since_ms = now_ms;
      if (now_ms - st.clear_since_ms >= hold_ms) {
        st.breached = false;
        st.clear_since_ms = -1;
        if (st.event_open) {
          st.event_open = false;
          sync_hooks(target, st);
          std::vector<std::size_t> send;  // the hooks that were sent the breach
          for (std::size_t h = 0; h < st.hooks.size(); ++h)
            if (std::exchange(st.hooks[h].open, false)) send.push_back(h);
          const auto& first = target.slo.burn_alerts.front();
          const slice_counts lw = state.burn_ring.sum(now, first.long_window);
          out.decisions.push_back({i, slo_event_kind::resolved, std::move(send), st.breach_started_ms,
                                   id_prefix + std::to_string(st.breach_started_ms) + ":resolved",
                                   ratio(bad_of(obj, lw), lw.total), obj.threshold_display, st.alert_window});
        }
      }
    }
  }
  return out;
}

}  // namespace watchpost::agent
