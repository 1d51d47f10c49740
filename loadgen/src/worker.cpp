// A worker's thread: its ticks (deadlines, ramp, the per-second hand-over), the end of its run
// and what it records per response.
#include "worker.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>

#include "run_state.hpp"

namespace watchpost::loadgen {

using probes::failure_kind;
using clock_type = worker::clock_type;
using time_point = worker::time_point;

worker::worker(run_state& run, const load_options& options, const compiled_plan& plan,
               const network_target& target, unsigned index, bool on_ring)
    : run_(run),
      options_(options),
      plan_(plan),
      target_(target),
      picker_(0x9E3779B97F4A7C15ull * (index + 1) ^ 0x2545F4914F6CDD1Dull),
      sampler_(plan) {
  const unsigned n = options.threads;
  const std::uint64_t conns = share_of(options.connections, index, n);
  if (options.max_requests != 0)
    quota_ = std::max<std::uint64_t>(share_of(options.max_requests, index, n), 0);
  if (options.rate) rate_ = options.rate->scaled(1.0 / n);
  std::uint64_t most = conns;
  if (options.connection_ramp) {
    ramp_ = options.connection_ramp->scaled(1.0 / n);
    // Enough connection objects for the ramp's peak share.
    double peak = 0;
    for (nanoseconds t{0}; t <= ramp_->total_duration(); t += std::chrono::milliseconds(100))
      peak = std::max(peak, ramp_->value_at(t));
    most = static_cast<std::uint64_t>(std::ceil(peak)) + 1;
  }
  if (on_ring) ring_ = std::make_unique<uring>(most);
  connections_.reserve(most);
  for (std::uint64_t i = 0; i < most; ++i) connections_.push_back(std::make_unique<connection>(*this, i));
  active_ = ramp_ ? 0 : conns;
}

std::unique_ptr<response_capture> worker::sample(std::size_t request) {
  if (!sampler_.take(plan_, request)) return nullptr;
  std::unique_ptr<response_capture> c;
  if (spare_captures_.empty()) {
    c = std::make_unique<response_capture>();
  } else {
    c = std::move(spare_captures_.back());
    spare_captures_.pop_back();
  }
  c->clear(plan_.requests[request].keep_body);
  return c;
}

void worker::record_response(int status, std::size_t request, time_point intended, time_point sent,
                             time_point done, response_capture* sampled) {
  auto& iv = interval_;
  failure_kind kind = failure_kind::none;
  if (sampled)
    kind = judge_sample(request, *sampled, done - sent);
  else if (!plan_.requests[request].status.matches(status))
    kind = failure_kind::status;
  if (status >= 0 && status < static_cast<int>(iv.status.size()))
    ++iv.status[static_cast<std::size_t>(status)];
  if (kind == failure_kind::none) {
    ++iv.totals.requests;
  } else {
    iv.totals.add_error(kind);
  }
  iv.corrected.record((done - intended).count());
  if (rate_) iv.uncorrected.record((done - sent).count());
  finished_one();
  // A timer runs only once epoll hands back its descriptor, which behind thousands of ready
  // sockets can be a second late; completions carry the time anyway, so look at it here too.
  if (done >= next_tick_ && !stopping_) on_tick();
}

failure_kind worker::judge_sample(std::size_t request, response_capture& sampled, nanoseconds took) {
  if (sampled.body_too_large) return failure_kind::body_too_large;
  sampled.response.timings.total = took;
  const compiled_request& r = plan_.requests[request];
  auto outcome = probes::judge(r.name, *r.sampled, std::move(sampled.response), {}, plan_.secrets);
  sampled.response = std::move(outcome.response);  // back to the pool with its capacity
  if (!outcome.failures.empty())
    add_failure_message(interval_.assertion_failures,
                        plan_.secrets(r.name + ": " + outcome.failures.front()));
  return outcome.kind;
}

void worker::update_active(time_point now) {
  if (!ramp_) return;
  const double target = ramp_->value_at(now - start_);
  active_ = std::min<std::size_t>(connections_.size(), static_cast<std::size_t>(std::llround(target)));
  for (std::size_t i = 0; i < active_; ++i) {
    auto& c = *connections_[i];
    if (!c.started())
      c.start();
    else if (c.parked())
      c.resume();
  }
}

void worker::run() {
  start_ = run_.start();
  if (ring_)
    ring_->start(
        [](void* self, const uring::completion& c) {
          auto& w = *static_cast<worker*>(self);
          w.connections_[connection::index_of(c.tag)]->on_completion(c);
        },
        this);
  if (options_.duration > nanoseconds{0}) end_ = start_ + options_.duration;
  if (options_.duration > nanoseconds{0} && !ring_) {
    deadline_.expires_at(end_);
    deadline_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) stop();
    });
  }
  if (quota_ == 0 && options_.max_requests != 0) {
    stop();  // this worker's share of -n is empty
  } else {
    update_active(clock_type::now());
    for (std::size_t i = 0; i < active_; ++i)
      if (!connections_[i]->started()) connections_[i]->start();
    on_tick();
  }
  if (ring_)
    run_ring();
  else
    ctx_.run();
}

void worker::run_ring() {
  while (!stopping_) {
    if (abort_requested_.load(std::memory_order_relaxed)) return;
    if (stop_requested_.load(std::memory_order_relaxed)) {
      stop();
      return;
    }
    // Closed model: with every connection busy, waking for an eighth of them at a time costs
    // the server nothing (the rest keep it busy). Open model: each completion as it comes, so
    // that sends leave at their intended times.
    const unsigned batch =
        open_model() ? 1 : static_cast<unsigned>(std::clamp<std::size_t>(active_ / 8, 1, 32));
    ring_->run_once(std::min(next_tick_, end_), batch);
    if (!stopping_ && clock_type::now() >= std::min(next_tick_, end_)) on_tick();
  }
}

void worker::request_stop() {
  if (ring_)
    stop_requested_.store(true, std::memory_order_relaxed);
  else
    boost::asio::post(ctx_, [this] { stop(); });
}

void worker::abort() {
  if (ring_)
    abort_requested_.store(true, std::memory_order_relaxed);
  else
    ctx_.stop();
}

void worker::on_tick() {
  if (stopping_) return;
  const time_point now = clock_type::now();
  if (now >= end_) {
    stop();
    return;
  }
  for (auto& c : connections_) c->check_deadline(now);
  update_active(now);
  if (now >= start_ + std::chrono::seconds(second_ + 1)) flush_interval(false);
  ++tick_count_;
  next_tick_ = start_ + std::chrono::milliseconds(100) * tick_count_;
  if (ring_) return;  // run_ring() looks at the clock
  tick_.expires_at(next_tick_);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_tick();
  });
}

void worker::flush_interval(bool final) {
  interval_data out;
  out.totals = interval_.totals;
  for (std::size_t code = 0; code < interval_.status.size(); ++code)
    if (interval_.status[code] != 0)
      out.totals.status_counts[static_cast<int>(code)] = interval_.status[code];
  out.corrected = std::move(interval_.corrected);
  out.uncorrected = std::move(interval_.uncorrected);
  out.assertion_failures.swap(interval_.assertion_failures);
  interval_.totals = counters{};
  interval_.status.fill(0);
  interval_.corrected = stats::histogram();
  interval_.uncorrected = stats::histogram();
  run_.deliver(second_, std::move(out), final, clock_type::now());
  ++second_;
}

void worker::stop() {
  if (stopping_) return;
  stopping_ = true;
  tick_.cancel();
  deadline_.cancel();
  const time_point now = clock_type::now();
  for (auto& c : connections_) c->end_of_run(now);
  drop_unclaimed(now);
  // The run ends now: closing 10,000 sockets takes the kernel a while, which is not run time.
  flush_interval(true);
  for (auto& c : connections_) c->stop();
  if (ring_) ring_->flush();  // the closes go now
}

// Open model: slots due by now that no connection was free to claim are dropped.
void worker::drop_unclaimed(time_point now) {
  if (!rate_) return;
  for (;;) {
    if (quota_ != 0 && claimed_ >= quota_) return;
    auto t = intended_time(*rate_, claimed_);
    if (!t || start_ + *t > std::min(now, end_)) return;
    ++claimed_;
    ++interval_.totals.dropped;
  }
}

}  // namespace watchpost::loadgen
