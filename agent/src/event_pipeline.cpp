// Why a kill -9 at any instruction loses no raised event and never re-fires one under a new id.
// S = the SLO snapshot file, O = the outbox files (each written to a temp file, fsynced, renamed,
// directory fsynced: a record is either absent or whole).
//  I1. S never holds a breach state whose events are not in O. evaluate() changes the state in
//      memory with t.mutex held; raise() stores every event of the decision before that lock is
//      released; the snapshot writer copies each target under its lock. So an S holding the new
//      state was built after the records were durable.
//  I2. A record leaves O only after an S holding its decision is durable: finish() queues it,
//      flush_removals() writes S, then unlinks. The decision was committed before post(), hence
//      before accept() and delivery, hence before that S was built.
// Crash points: before the records are durable, neither S nor O knows the decision and no
// "slo breached|resolved" line was logged yet (raise() logs after storing): the evaluator decides
// afresh. Records durable, S older: reconcile() makes the restored state say what the records say
// (the breach is open under its id, its resolved is owed). S newer: reconcile() changes nothing.
// Delivered, file not yet removed: sent again after the restart under the same id (at least once).
// Removed: by I2, S knows the decision. Order survives too: files carry a seq, load() sorts.
// The one exception is a failed write (a full disk, counted in state_write_errors): the event is
// then delivered from memory, and only while this process lives.
#include "event_pipeline.hpp"

#include <boost/asio/post.hpp>
#include <variant>

#include "watchpost/agent/log.hpp"

namespace watchpost::agent::detail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

std::string hook_label(const std::string& url) {
  auto parsed = probes::parse_url(url);
  if (auto* u = std::get_if<probes::url>(&parsed)) return u->scheme() + "://" + u->authority();
  return "?";
}

bool same_breach(const outbox_event& a, const outbox_event& b) {
  return a.target == b.target && a.hook == b.hook && a.slo == b.slo && a.breach_ms == b.breach_ms;
}

event_pipeline::event_pipeline(asio::io_context& control, const std::string& state_dir,
                               const target_list& targets, agent_metrics& metrics, state_store& state,
                               tls_contexts& tls)
    : control_(control),
      targets_(targets),
      metrics_(metrics),
      state_(state),
      tls_(tls),
      outbox_(state_dir + "/outbox") {}

void event_pipeline::configure(const agent_config& config) {
  max_age_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(config.max_event_age).count();
  outbox_.set_limit(config.max_outbox_events);
}

void event_pipeline::publish_depth() { metrics_.outbox_depth().Set(static_cast<double>(outbox_.size())); }

void event_pipeline::restore(const agent_config& config) {
  std::vector<std::string> errors;
  // Records of the previous format name their hook by position: in the config they were raised under.
  auto legacy_hook = [&config](const std::string& target, std::size_t index) {
    for (const auto& t : config.targets)
      if (t.name == target && index < t.on_breach.size()) return t.on_breach[index].url.to_string();
    return std::string();
  };
  for (auto& e : outbox_.load(errors, legacy_hook)) pending_.push_back({std::move(e)});
  for (const auto& error : errors) log_event(log_level::warn, "outbox", {{"error", error}});
  if (!pending_.empty())
    log_event(log_level::info, "pending webhook events restored",
              {{"count", std::to_string(pending_.size())}});
  publish_depth();
}

void event_pipeline::reconcile_states(const target_list& targets) const {
  for (const auto& p : pending_)
    for (const auto& t : targets)
      if (t->config.name == p.event.target) reconcile(t->window, t->objectives, p.event);
}

std::vector<outbox_event> event_pipeline::raise(const agent_config& config, target_runtime& t,
                                                const evaluation& eval, wall_time now) {
  std::vector<outbox_event> raised;
  for (const auto& d : eval.decisions) {
    const bool resolved = d.kind == slo_event_kind::resolved;
    slo_status& st = t.window.slos[d.slo_index];
    const std::string body = render_event(config, t, d, now);
    const std::size_t before = raised.size();
    for (std::size_t h : d.hooks) {
      outbox_event e{0,
                     d.event_id,
                     t.config.name,
                     t.config.on_breach[h].url.to_string(),
                     t.objectives[d.slo_index].name,
                     resolved,
                     d.breach_ms,
                     unix_millis(now),
                     body};
      std::string error;
      const put_result stored = outbox_.put(e, error);
      if (stored == put_result::full) {
        metrics_.events_dropped(drop_reason::outbox_full).Increment();
        log_event(log_level::error, "outbox full: webhook event dropped",
                  {{"target", e.target}, {"event_id", e.event_id}, {"hook", hook_label(e.hook)}});
        // Its resolved must not follow alone (evaluate() synced st.hooks to on_breach).
        if (!resolved && h < st.hooks.size()) st.hooks[h].open = false;
        continue;
      }
      if (stored == put_result::failed)
        state_.report_error("cannot persist webhook event; delivering from memory", error);
      raised.push_back(std::move(e));
    }
    // After the store: a line here means the event survives a kill -9 (the chaos test counts them).
    log_event(resolved ? log_level::info : log_level::warn, resolved ? "slo resolved" : "slo breached",
              {{"target", t.config.name},
               {"slo", t.objectives[d.slo_index].name},
               {"event_id", d.event_id},
               {"window", d.window},
               {"hooks", std::to_string(raised.size() - before)}});
  }
  return raised;
}

void event_pipeline::post(std::vector<outbox_event> events) {
  if (events.empty()) return;
  asio::post(control_, [this, events = std::move(events)]() mutable { accept(std::move(events)); });
}

void event_pipeline::accept(std::vector<outbox_event> events) {
  for (auto& e : events) {
    // Workers post concurrently: keep the list in seq order (one worker's events come in order).
    auto pos = pending_.end();
    while (pos != pending_.begin() && std::prev(pos)->event.seq > e.seq) --pos;
    pending_.insert(pos, {std::move(e)});
  }
  publish_depth();
}

target_runtime* event_pipeline::find_target(const std::string& name) const {
  for (auto& t : targets_)
    if (t->config.name == name) return t.get();
  return nullptr;
}

const webhook_config* event_pipeline::find_hook(const outbox_event& e) const {
  if (const target_runtime* t = find_target(e.target))
    for (const auto& h : t->config.on_breach)
      if (h.url.to_string() == e.hook) return &h;
  return nullptr;
}

void event_pipeline::reloaded() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (!it->in_flight && !find_hook(it->event))
      drop(it, drop_reason::hook_removed, "webhook event dropped: its target or hook was removed");
    it = next;
  }
}

void event_pipeline::close_hook(const outbox_event& breached) const {
  target_runtime* t = find_target(breached.target);
  if (!t) return;
  std::lock_guard lock(t->mutex);
  for (std::size_t i = 0; i < t->objectives.size() && i < t->window.slos.size(); ++i) {
    slo_status& st = t->window.slos[i];
    if (t->objectives[i].name != breached.slo || st.breach_started_ms != breached.breach_ms) continue;
    for (auto& h : st.hooks)
      if (h.hook == breached.hook) h.open = false;
  }
}

void event_pipeline::drop(pending_list::iterator it, drop_reason reason, const char* why) {
  const outbox_event e = it->event;
  log_event(log_level::warn, why,
            {{"target", e.target}, {"event_id", e.event_id}, {"hook", hook_label(e.hook)}});
  metrics_.events_dropped(reason).Increment();
  finish(it);
  if (e.resolved) return;
  close_hook(e);
  // Later events of this key are never in flight while an earlier one is pending.
  for (auto r = pending_.begin(); r != pending_.end();) {
    auto next = std::next(r);
    if (r->event.resolved && !r->in_flight && same_breach(r->event, e)) {
      log_event(log_level::warn, "webhook event dropped with its breached",
                {{"target", e.target}, {"event_id", r->event.event_id}, {"hook", hook_label(e.hook)}});
      metrics_.events_dropped(reason).Increment();
      finish(r);
    }
    r = next;
  }
}

void event_pipeline::stop() { flush_removals(); }

void event_pipeline::finish(pending_list::iterator it) {
  removals_.push_back(std::move(it->event));
  pending_.erase(it);
}

void event_pipeline::flush_removals() {
  if (removals_.empty()) return;
  // I2: the state of every decision finished so far is durable first. When it cannot be written
  // the files stay (an event may then be sent again after a restart, under its id). Spaced by
  // ten times the write's own duration (at 10,000 targets the snapshot is megabytes), at least a
  // second after a failure: a delivered event whose file is still there is sent again after a kill.
  const auto started = steady::now();
  const bool written = state_.write(targets_);
  next_flush_ = steady::now() + (written ? 10 * (steady::now() - started) : std::chrono::seconds(1));
  if (!written) return;
  for (const auto& e : removals_)
    if (auto error = outbox_.remove(e)) state_.report_error("cannot remove delivered event", *error);
  removals_.clear();
  publish_depth();
}

}  // namespace watchpost::agent::detail
