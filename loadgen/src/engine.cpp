// The hot path. Callbacks rather than coroutines: a connection is a small state machine
// (connect -> write -> wait readable -> read into the worker's shared buffer -> parse), which
// keeps per-connection memory to a few hundred bytes (no read buffer per connection, so
// 10,000 connections cost far less than wrk's 8 KiB each) and compiles in seconds.
// Handlers capture one pointer, so Asio's per-thread recycling allocator serves every
// operation: steady state allocates nothing per request.
#include "watchpost/loadgen/engine.hpp"
#include "watchpost/loadgen/response_parser.hpp"
#include "watchpost/probes/redact.hpp"
#include "watchpost/probes/url.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

namespace watchpost::loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using probes::failure_kind;

std::string serialize_request(const request_template& r, const probes::url& url) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\n";
  if (!probes::find_header(r.headers, "Host")) out += "Host: " + url.authority() + "\r\n";
  for (const auto& h : r.headers) out += h.name + ": " + h.value + "\r\n";
  if (!r.body.empty() && !probes::find_header(r.headers, "Content-Length"))
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

namespace {

// Read-only after setup; shared by every worker.
struct shared_plan {
  std::vector<tcp::endpoint> endpoints;
  SSL_CTX* tls = nullptr;              // https: verification, CA store (null for http)
  std::string tls_host;                // SNI and the name (or IP) the certificate must carry
  bool tls_host_is_ip = false;
  std::vector<std::string> wire;       // serialised requests, one per template
  std::vector<bool> head;              // HEAD requests: no body in the answer
  std::vector<bool> idempotent;        // resent once after an idle keep-alive close
  std::vector<std::string> idle_close_message;  // why a non-idempotent one was not resent
  std::vector<probes::status_rule> status;  // checked on every response
  // Per template, only when expect: has rules beyond the status: the whole expectation,
  // checked on a sample of the responses.
  std::vector<const probes::expectation*> sampled_expect;
  std::vector<double> sample;
  std::vector<bool> keep_body;         // a sampled rule reads the body (body:, json:)
  std::vector<std::string> names;
  probes::redactor secrets;            // ${env:...} and credential header values, masked in failure messages
  std::vector<double> cumulative_weight;
  double total_weight = 0;
};

// What one worker measured during the current second.
struct interval_data {
  counters totals;
  std::array<std::uint64_t, 600> status{};  // flat per-code counters: no map on the hot path
  stats::histogram corrected;
  stats::histogram uncorrected;
  failure_messages assertion_failures;
};

class run_state;
class worker;

class connection {
 public:
  connection(worker& w, std::size_t index);
  void start();
  void stop();
  // Called by the worker's sweep: closes an exchange (or connect) past its deadline.
  void check_deadline(time_point now);
  void resume();  // a parked connection may work again
  bool parked() const { return parked_; }
  bool started() const { return started_; }
  // The run ends now: a request still unanswered is counted as in flight, or as a timeout
  // when it is already past its deadline.
  void end_of_run(time_point now);

 private:
  enum class phase : std::uint8_t { idle, connecting, handshaking, waiting_slot, in_flight, backoff };
  // One non-blocking read or write, on the plain socket or through TLS.
  enum class io_result : std::uint8_t { done, want_read, want_write, closed, failed };
  using step = void (connection::*)();

  void connect();
  void on_connect(const boost::system::error_code& ec);
  void connect_failed(failure_kind kind);
  void handshake();
  void ready();  // connected (and TLS established): start the first request
  void close_transport();
  io_result write_some(const char* data, std::size_t size, std::size_t& written);
  io_result read_some(char* data, std::size_t size, std::size_t& got);
  io_result tls_result(int rc, std::size_t& count);
  // Waits until the socket can do what `want` asks, then runs `next` (or fails the exchange).
  void await(io_result want, step next);
  void next_request();
  void send();
  void write_request();
  void wait_readable();
  void read_response();
  void yield_read();
  void closed_before_response();
  void resend();
  void complete();
  void fail(failure_kind kind);
  void release_capture();
  void reconnect_after(nanoseconds delay);

  worker& w_;
  std::size_t index_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  struct ssl_free {
    void operator()(SSL* s) const { SSL_free(s); }
  };
  std::unique_ptr<SSL, ssl_free> tls_;  // per connection attempt, on https
  struct session_free {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
  };
  // The last TLS session, resumed on reconnect (servers that close connections cost an
  // abbreviated handshake, not a full one).
  std::unique_ptr<SSL_SESSION, session_free> session_;
  response_parser parser_;
  std::unique_ptr<response_capture> capture_;  // set while a sampled response is in flight
  std::size_t request_ = 0;
  std::size_t written_ = 0;  // bytes of the current request sent so far
  time_point intended_{}, sent_{}, deadline_{};
  nanoseconds backoff_{0};
  std::size_t endpoint_ = 0;
  phase phase_ = phase::idle;
  bool connected_ = false;
  bool timed_out_ = false;
  bool parked_ = false;
  bool started_ = false;
  bool reused_ = false;    // this transport already carried a complete exchange
  bool answered_ = false;  // a byte of the current response arrived
  bool resent_ = false;    // the current request was already resent once
  bool resend_ = false;    // reconnecting to resend the current request
};

class worker {
 public:
  worker(run_state& run, const load_options& options, const shared_plan& plan, unsigned index);
  void run();
  void stop();  // graceful: called on this worker's thread (post to it from elsewhere)
  asio::io_context& context() { return ctx_; }

  // Hot-path services for connections.
  bool stopping() const { return stopping_; }
  bool open_model() const { return rate_.has_value(); }
  bool may_work(std::size_t index) const { return index < active_; }
  // Claims the next request slot at `now`: its intended send time (open model), or false when
  // the worker's share of -n or of the schedule is used up. Open model: a slot already more
  // than the timeout past its intended time is dropped, not sent (engine.hpp has the rule).
  bool claim(time_point& intended, time_point now) {
    for (;;) {
      if (quota_ != 0 && claimed_ >= quota_) return false;
      ++claimed_;
      if (!rate_) return true;
      auto t = intended_time(*rate_, claimed_ - 1);
      if (!t) {
        --claimed_;
        return false;
      }
      intended = start_ + *t;
      if (now - intended <= options_.timeout) return true;
      ++interval_.totals.dropped;
      finished_one();
    }
  }
  std::size_t pick_request() {
    if (plan_.wire.size() == 1) return 0;
    // xorshift64: the mix needs spread, not cryptographic quality.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    const double x = static_cast<double>(rng_ >> 11) * 0x1.0p-53 * plan_.total_weight;
    std::size_t i = 0;
    while (i + 1 < plan_.cumulative_weight.size() && x >= plan_.cumulative_weight[i]) ++i;
    return i;
  }
  // A capture when this exchange of `request` is sampled for its expect: rules, else null.
  std::unique_ptr<response_capture> sample(std::size_t request) {
    if (!plan_.sampled_expect[request]) return nullptr;
    // Deterministic: the first response is sampled, then one per 1/sample responses.
    double& credit = sample_credit_[request];
    const bool take = credit >= 1 - 1e-9;
    if (take) credit -= 1;
    credit += plan_.sample[request];
    if (!take) return nullptr;
    std::unique_ptr<response_capture> c;
    if (spare_captures_.empty()) {
      c = std::make_unique<response_capture>();
    } else {
      c = std::move(spare_captures_.back());
      spare_captures_.pop_back();
    }
    c->clear(plan_.keep_body[request]);
    return c;
  }
  void give_back(std::unique_ptr<response_capture> c) {
    // Keep spare buffers small: one huge sampled body must not stay resident.
    if (c->response.body.capacity() > 1024 * 1024) c->response.body = std::string();
    spare_captures_.push_back(std::move(c));
  }
  void record_response(int status, std::size_t request, time_point intended, time_point sent, time_point done,
                       response_capture* sampled) {
    auto& iv = interval_;
    failure_kind kind = failure_kind::none;
    if (sampled) kind = judge_sample(request, *sampled, done - sent);
    else if (!plan_.status[request].matches(status)) kind = failure_kind::status;
    if (status >= 0 && status < static_cast<int>(iv.status.size())) ++iv.status[static_cast<std::size_t>(status)];
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
  void record_error(failure_kind kind) {
    interval_.totals.add_error(kind);
    finished_one();
  }
  // A non-idempotent request whose reused connection the server closed while idle: a reset,
  // with the reason among the failure messages.
  void record_idle_close(std::size_t request) {
    add_failure_message(interval_.assertion_failures, plan_.idle_close_message[request]);
    record_error(failure_kind::reset);
  }
  void record_reconnect() { ++interval_.totals.reconnects; }
  // At the end of the run (the run's counters are final, so no quota bookkeeping).
  void record_unanswered(bool past_deadline) {
    if (past_deadline) interval_.totals.add_error(failure_kind::timeout);
    else ++interval_.totals.in_flight_at_end;
  }
  void add_bytes(std::size_t n) { interval_.totals.bytes_read += n; }
  char* read_buffer() { return read_buffer_.data(); }
  std::size_t read_buffer_size() const { return read_buffer_.size(); }
  const shared_plan& plan() const { return plan_; }
  const load_options& options() const { return options_; }

 private:
  void finished_one() {
    ++completed_;
    if (quota_ != 0 && completed_ >= quota_) stop();
  }
  failure_kind judge_sample(std::size_t request, response_capture& sampled, nanoseconds took);
  void on_tick();
  void flush_interval(bool final);
  void update_active(time_point now);
  void drop_unclaimed(time_point now);

  run_state& run_;
  const load_options& options_;
  const shared_plan& plan_;
  // Only this worker's thread touches its sockets and timers, so the reactor's per-descriptor
  // locks are dropped; the scheduler keeps its lock because the main thread posts stop().
  asio::io_context ctx_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  asio::steady_timer tick_{ctx_};
  asio::steady_timer deadline_{ctx_};
  std::vector<std::unique_ptr<connection>> connections_;
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
  std::vector<double> sample_credit_;
  std::vector<std::unique_ptr<response_capture>> spare_captures_;
  interval_data interval_;
  std::optional<schedule> rate_;  // this worker's share of the rate
  std::optional<schedule> ramp_;  // this worker's share of the connections
  time_point start_{};
  time_point end_ = time_point::max();  // start + duration
  time_point next_tick_{};
  std::int64_t second_ = 0;
  std::uint64_t tick_count_ = 0;
  std::uint64_t quota_ = 0;
  std::uint64_t claimed_ = 0, completed_ = 0;
  std::size_t active_ = 0;
  std::uint64_t rng_;
  bool stopping_ = false;

  friend class run_state;
};

// The main thread's side: merges workers' seconds into the result and watches signals.
class run_state {
 public:
  run_state(const load_options& options, const interval_observer& observer)
      : options_(options), observer_(observer) {}

  load_result run(const shared_plan& plan);

  time_point start() const { return start_; }
  // From a worker thread: hands over one second (or the last partial one).
  void deliver(std::int64_t second, interval_data data, bool final, time_point stopped_at) {
    asio::post(main_, [this, second, d = std::move(data), final, stopped_at]() mutable {
      on_interval(second, std::move(d), final, stopped_at);
    });
  }

 private:
  void on_interval(std::int64_t second, interval_data data, bool final, time_point stopped_at);
  void stop_all();

  const load_options& options_;
  const interval_observer& observer_;
  asio::io_context main_{1};
  std::vector<std::unique_ptr<worker>> workers_;
  load_result result_;
  std::map<std::int64_t, unsigned> arrivals_;  // workers that delivered each second
  unsigned finished_ = 0;
  time_point start_{};
  time_point last_stop_{};
  bool stop_requested_ = false;
  std::optional<asio::signal_set> signals_;
};

// ---------------------------------------------------------------------------------------
// connection

connection::connection(worker& w, std::size_t index)
    : w_(w), index_(index), socket_(w.context()), timer_(w.context()) {}

void connection::start() {
  started_ = true;
  parked_ = false;
  connect();
}

void connection::stop() {
  close_transport();
  timer_.cancel();
}

void connection::close_transport() {
  if (tls_) {
    SSL_SESSION* session = SSL_get0_session(tls_.get());
    if (session && SSL_SESSION_is_resumable(session)) session_.reset(SSL_get1_session(tls_.get()));
  }
  tls_.reset();  // no close_notify: the socket closes right after
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void connection::resume() {
  if (!parked_) return;
  parked_ = false;
  if (connected_) next_request();
  else connect();
}

void connection::connect() {
  if (w_.stopping()) return;
  close_transport();
  connected_ = false;
  reused_ = false;
  timed_out_ = false;
  phase_ = phase::connecting;
  deadline_ = clock_type::now() + w_.options().connect_timeout;
  const auto& endpoints = w_.plan().endpoints;
  if (endpoints.empty()) {  // the name did not resolve: each attempt is a dns failure, not a setup error
    connect_failed(failure_kind::dns);
    return;
  }
  const tcp::endpoint& ep = endpoints[(endpoint_ + index_) % endpoints.size()];
  socket_.async_connect(ep, [this](const boost::system::error_code& ec) { on_connect(ec); });
}

void connection::on_connect(const boost::system::error_code& ec) {
  if (w_.stopping()) return;
  if (ec) {
    ++endpoint_;  // try the next address of the name next time
    connect_failed(timed_out_ ? failure_kind::connect_timeout : failure_kind::connect);
    return;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
  const shared_plan& plan = w_.plan();
  if (!plan.tls) {
    ready();
    return;
  }
  tls_.reset(SSL_new(plan.tls));
  SSL* s = tls_.get();
  if (!s || !SSL_set_fd(s, socket_.native_handle())) {
    connect_failed(failure_kind::tls_handshake);
    return;
  }
  // A peer closing without close_notify ends a read-until-close body; it is not an error here.
  SSL_set_options(s, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (session_) SSL_set_session(s, session_.get());
  if (plan.tls_host_is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), plan.tls_host.c_str());
  } else {
    SSL_set_tlsext_host_name(s, plan.tls_host.c_str());
    SSL_set1_host(s, plan.tls_host.c_str());
  }
  SSL_set_connect_state(s);
  phase_ = phase::handshaking;  // still under the connect deadline
  handshake();
}

void connection::handshake() {
  if (w_.stopping()) return;
  std::size_t ignored = 0;
  switch (tls_result(SSL_do_handshake(tls_.get()), ignored)) {
    case io_result::done:
      ready();
      return;
    case io_result::want_read:
      await(io_result::want_read, &connection::handshake);
      return;
    case io_result::want_write:
      await(io_result::want_write, &connection::handshake);
      return;
    default: {
      const bool rejected = SSL_get_verify_result(tls_.get()) != X509_V_OK;
      connect_failed(rejected && !timed_out_ ? failure_kind::tls_verify : failure_kind::tls_handshake);
      return;
    }
  }
}

void connection::connect_failed(failure_kind kind) {
  close_transport();
  if (resend_) {
    // The reconnect for a resend failed: that request fails with it.
    resend_ = false;
    release_capture();
  } else {
    // A failed connect uses up one request slot, so -n still ends and errors are counted.
    time_point ignored_intended;
    if (!w_.claim(ignored_intended, clock_type::now())) {
      phase_ = phase::idle;
      return;
    }
  }
  w_.record_error(kind);
  if (w_.stopping()) return;
  backoff_ = std::min<nanoseconds>(std::max<nanoseconds>(backoff_ * 2, std::chrono::milliseconds(10)),
                                   std::chrono::seconds(1));
  reconnect_after(backoff_);
}

void connection::ready() {
  connected_ = true;
  backoff_ = nanoseconds{0};
  if (resend_) resend();
  else next_request();
}

void connection::reconnect_after(nanoseconds delay) {
  phase_ = phase::backoff;
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !w_.stopping()) connect();
  });
}

connection::io_result connection::tls_result(int rc, std::size_t& count) {
  if (rc > 0) {
    count = static_cast<std::size_t>(rc);
    return io_result::done;
  }
  switch (SSL_get_error(tls_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      return io_result::want_read;
    case SSL_ERROR_WANT_WRITE:
      return io_result::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return io_result::closed;
    default:
      ERR_clear_error();  // the connection is dropped; keep the thread's queue clean for the next
      return io_result::failed;
  }
}

connection::io_result connection::write_some(const char* data, std::size_t size, std::size_t& written) {
  if (tls_) return tls_result(SSL_write(tls_.get(), data, static_cast<int>(size)), written);
  boost::system::error_code ec;
  written = socket_.write_some(asio::buffer(data, size), ec);
  if (ec == asio::error::would_block) return io_result::want_write;
  return ec ? io_result::failed : io_result::done;
}

connection::io_result connection::read_some(char* data, std::size_t size, std::size_t& got) {
  if (tls_) return tls_result(SSL_read(tls_.get(), data, static_cast<int>(size)), got);
  boost::system::error_code ec;
  got = socket_.read_some(asio::buffer(data, size), ec);
  if (ec == asio::error::would_block) return io_result::want_read;
  if (ec == asio::error::eof) return io_result::closed;
  return ec ? io_result::failed : io_result::done;
}

void connection::await(io_result want, step next) {
  const auto what = want == io_result::want_read ? tcp::socket::wait_read : tcp::socket::wait_write;
  socket_.async_wait(what, [this, next](const boost::system::error_code& ec) {
    if (w_.stopping()) return;
    if (!ec) {
      (this->*next)();
    } else if (phase_ == phase::handshaking) {
      connect_failed(failure_kind::tls_handshake);
    } else {
      fail(timed_out_ ? failure_kind::timeout : failure_kind::reset);
    }
  });
}

void connection::next_request() {
  if (w_.stopping()) return;
  if (!w_.may_work(index_)) {
    parked_ = true;
    phase_ = phase::idle;
    return;
  }
  const time_point now = clock_type::now();
  if (!w_.claim(intended_, now)) {
    phase_ = phase::idle;
    return;
  }
  if (w_.open_model()) {
    if (intended_ > now) {
      phase_ = phase::waiting_slot;
      timer_.expires_at(intended_);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && !w_.stopping()) send();
      });
      return;
    }
  }
  send();
}

void connection::send() {
  request_ = w_.pick_request();
  capture_ = w_.sample(request_);
  parser_.reset(w_.plan().head[request_], capture_.get());
  sent_ = clock_type::now();
  if (!w_.open_model()) intended_ = sent_;
  resent_ = false;
  deadline_ = sent_ + w_.options().timeout;
  phase_ = phase::in_flight;
  timed_out_ = false;
  answered_ = false;
  written_ = 0;
  write_request();
}

// The same request again on a new connection, still under its first send's deadline.
void connection::resend() {
  resend_ = false;
  resent_ = true;
  parser_.reset(w_.plan().head[request_], capture_.get());
  deadline_ = sent_ + w_.options().timeout;
  phase_ = phase::in_flight;
  answered_ = false;
  written_ = 0;
  write_request();
}

// The server closed the connection before any byte of this response arrived. On a reused
// connection that is an idle keep-alive close racing the request, which the server never
// read: an idempotent request is resent once on a new connection (as browsers, k6 and Go's
// client do); any other is a reset, with the reason among the failure messages.
void connection::closed_before_response() {
  if (timed_out_) {
    fail(failure_kind::timeout);
  } else if (!reused_ || resent_) {
    fail(failure_kind::reset);
  } else if (!w_.plan().idempotent[request_]) {
    phase_ = phase::idle;
    connected_ = false;
    release_capture();
    w_.record_idle_close(request_);
    if (!w_.stopping()) connect();
  } else {
    w_.record_reconnect();
    resend_ = true;
    connect();
  }
}

void connection::write_request() {
  // Requests are small: one non-blocking send usually takes all of it, no reactor round trip.
  const std::string& wire = w_.plan().wire[request_];
  while (written_ < wire.size()) {
    std::size_t n = 0;
    const io_result r = write_some(wire.data() + written_, wire.size() - written_, n);
    if (r == io_result::want_read || r == io_result::want_write) {
      await(r, &connection::write_request);
      return;
    }
    if (r != io_result::done) {
      closed_before_response();
      return;
    }
    written_ += n;
  }
  wait_readable();
}

void connection::wait_readable() { await(io_result::want_read, &connection::read_response); }

void connection::read_response() {
  // A fast endless body must not hold the thread: after this many bytes the handler yields,
  // so deadlines, -d and SIGINT run between turns.
  std::size_t budget = 4 * w_.read_buffer_size();
  for (;;) {
    std::size_t n = 0;
    const io_result r = read_some(w_.read_buffer(), w_.read_buffer_size(), n);
    if (r == io_result::want_read || r == io_result::want_write) {
      await(r, &connection::read_response);
      return;
    }
    if ((r == io_result::closed || r == io_result::failed) && !answered_) {
      closed_before_response();
      return;
    }
    if (r == io_result::closed) {
      parser_.on_eof();
      if (parser_.done()) {
        connected_ = false;
        complete();
      } else {
        fail(failure_kind::reset);
      }
      return;
    }
    if (r == io_result::failed) {
      fail(failure_kind::reset);
      return;
    }
    answered_ = answered_ || n != 0;
    w_.add_bytes(n);
    parser_.feed(w_.read_buffer(), n);
    if (parser_.failed()) {
      fail(failure_kind::protocol);
      return;
    }
    if (parser_.done()) {
      complete();
      return;
    }
    // A short plain read drained the socket: the rest comes with the next readiness event.
    // (TLS may hold decrypted bytes the socket no longer shows, so it reads until want_read.)
    if (!tls_ && n < w_.read_buffer_size()) {
      wait_readable();
      return;
    }
    if (n >= budget) {
      yield_read();
      return;
    }
    budget -= n;
  }
}

void connection::yield_read() {
  asio::post(w_.context(), [this] {
    if (w_.stopping()) return;
    if (timed_out_) fail(failure_kind::timeout);
    else read_response();
  });
}

void connection::complete() {
  const time_point done = clock_type::now();
  phase_ = phase::idle;
  w_.record_response(parser_.status(), request_, intended_, sent_, done, capture_.get());
  release_capture();
  reused_ = true;
  if (w_.stopping()) return;
  if (parser_.keep_alive() && connected_) next_request();
  else connect();
}

void connection::release_capture() {
  if (capture_) w_.give_back(std::move(capture_));
}

void connection::fail(failure_kind kind) {
  phase_ = phase::idle;
  connected_ = false;
  release_capture();
  w_.record_error(kind);
  if (w_.stopping()) return;
  // A server that closes or resets connections is reconnected at once; if the reconnect is
  // refused, on_connect backs off.
  connect();
}

void connection::end_of_run(time_point now) {
  if (phase_ == phase::in_flight || resend_) w_.record_unanswered(now >= sent_ + w_.options().timeout);
}

void connection::check_deadline(time_point now) {
  if ((phase_ == phase::connecting || phase_ == phase::handshaking || phase_ == phase::in_flight) && now >= deadline_) {
    timed_out_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);  // the pending operation completes with operation_aborted
  }
}

// ---------------------------------------------------------------------------------------
// worker

worker::worker(run_state& run, const load_options& options, const shared_plan& plan, unsigned index)
    : run_(run), options_(options), plan_(plan),
      rng_(0x9E3779B97F4A7C15ull * (index + 1) ^ 0x2545F4914F6CDD1Dull) {
  const unsigned n = options.threads;
  const std::uint64_t conns = share_of(options.connections, index, n);
  if (options.max_requests != 0) quota_ = std::max<std::uint64_t>(share_of(options.max_requests, index, n), 0);
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
  sample_credit_.assign(plan.wire.size(), 1.0);
  connections_.reserve(most);
  for (std::uint64_t i = 0; i < most; ++i) connections_.push_back(std::make_unique<connection>(*this, i));
  active_ = ramp_ ? 0 : conns;
}

failure_kind worker::judge_sample(std::size_t request, response_capture& sampled, nanoseconds took) {
  if (sampled.body_too_large) return failure_kind::body_too_large;
  sampled.response.timings.total = took;
  auto outcome =
      probes::judge(plan_.names[request], *plan_.sampled_expect[request], std::move(sampled.response), {}, plan_.secrets);
  sampled.response = std::move(outcome.response);  // back to the pool with its capacity
  if (!outcome.failures.empty())
    add_failure_message(interval_.assertion_failures,
                        plan_.secrets(plan_.names[request] + ": " + outcome.failures.front()));
  return outcome.kind;
}

void worker::update_active(time_point now) {
  if (!ramp_) return;
  const double target = ramp_->value_at(now - start_);
  active_ = std::min<std::size_t>(connections_.size(), static_cast<std::size_t>(std::llround(target)));
  for (std::size_t i = 0; i < active_; ++i) {
    auto& c = *connections_[i];
    if (!c.started()) c.start();
    else if (c.parked()) c.resume();
  }
}

void worker::run() {
  start_ = run_.start();
  if (options_.duration > nanoseconds{0}) {
    end_ = start_ + options_.duration;
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
  ctx_.run();
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
  tick_.expires_at(next_tick_);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_tick();
  });
}

void worker::flush_interval(bool final) {
  interval_data out;
  out.totals = interval_.totals;
  for (std::size_t code = 0; code < interval_.status.size(); ++code)
    if (interval_.status[code] != 0) out.totals.status_counts[static_cast<int>(code)] = interval_.status[code];
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

// ---------------------------------------------------------------------------------------
// run_state

void run_state::on_interval(std::int64_t second, interval_data data, bool final, time_point stopped_at) {
  const bool has_data = data.totals != counters{};
  if (!final || has_data) result_.add_interval(second, data.totals, data.corrected, data.uncorrected);
  merge_failure_messages(result_.assertion_failures, data.assertion_failures);
  if (final) {
    last_stop_ = std::max(last_stop_, stopped_at);
    if (++finished_ == workers_.size()) {
      signals_->cancel();
      return;
    }
    return;
  }
  if (++arrivals_[second] == workers_.size()) {
    arrivals_.erase(second);
    if (observer_ && !stop_requested_) {
      auto it = std::find_if(result_.series.begin(), result_.series.end(),
                             [&](const series_point& p) { return p.second == second; });
      result_.elapsed_seconds = to_seconds(clock_type::now() - start_);
      if (it != result_.series.end() && !observer_(result_, *it)) {
        result_.interrupted = true;
        stop_all();
      }
    }
  }
}

void run_state::stop_all() {
  stop_requested_ = true;
  for (auto& w : workers_) asio::post(w->context(), [wp = w.get()] { wp->stop(); });
}

load_result run_state::run(const shared_plan& plan) {
  result_.parameters = options_.parameters;
  for (unsigned i = 0; i < options_.threads; ++i)
    workers_.push_back(std::make_unique<worker>(*this, options_, plan, i));

  signals_.emplace(main_, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [this, &on_signal](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (!stop_requested_) {
          // First signal: stop gracefully and report what ran.
          result_.interrupted = true;
          stop_all();
          signals_->async_wait(on_signal);
        } else {
          // Second signal: stop now, without waiting for workers to drain.
          for (auto& w : workers_) w->context().stop();
          main_.stop();
        }
      };
  signals_->async_wait(on_signal);

  start_ = clock_type::now();
  last_stop_ = start_;
  std::vector<std::thread> threads;
  threads.reserve(workers_.size());
  for (auto& w : workers_) threads.emplace_back([wp = w.get()] { wp->run(); });
  main_.run();
  for (auto& t : threads) t.join();
  if (last_stop_ == start_) last_stop_ = clock_type::now();
  result_.elapsed_seconds = to_seconds(last_stop_ - start_);
  return std::move(result_);
}

// What is checked on every response, and what only on a sample.
void add_expectation(shared_plan& plan, const request_template& r) {
  const probes::status_rule any_status{{}, {1, 2, 3, 4, 5}};
  const probes::status_rule success_or_redirect{{}, {2, 3}};  // the suites' default
  const probes::expectation* e = r.expect ? &*r.expect : nullptr;
  if (e && e->status) plan.status.push_back(*e->status);
  else if (e && e->redirect_to_https) plan.status.push_back(any_status);  // the redirect rule judges it
  else plan.status.push_back(success_or_redirect);
  const bool beyond_status = e && (!e->headers.empty() || !e->body.empty() || !e->json.empty() || e->latency_ms ||
                                   e->redirect_to_https || e->cors_no_wildcard_with_credentials);
  plan.sampled_expect.push_back(beyond_status ? e : nullptr);
  plan.sample.push_back(r.sample);
  plan.keep_body.push_back(beyond_status && (!e->body.empty() || !e->json.empty()));
  plan.names.push_back(r.name.empty() ? r.method + " " + r.target : r.name);
  for (const auto& h : r.headers)
    if (probes::is_credential_header(h.name)) plan.secrets.add_credential_header(h.value);
}

void raise_open_file_limit() {
  // 10,000 connections need 10,000 descriptors; the soft limit is often 1,024.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

load_result run_load(const load_options& options, const interval_observer& observer) {
  if (options.threads == 0) throw std::runtime_error("need at least one thread");
  raise_open_file_limit();

  shared_plan plan;
  std::shared_ptr<asio::ssl::context> tls_context;
  if (options.url.tls) {
    tls_context = probes::make_tls_context(options.tls);  // throws for an unreadable --ca-file
    plan.tls = tls_context->native_handle();
    plan.tls_host = options.url.host;
    plan.tls_host_is_ip = probes::is_ip_literal(options.url.host);
  }
  {
    asio::io_context ctx;
    tcp::resolver resolver(ctx);
    boost::system::error_code ec;
    // A name that does not resolve is the target's failure, not the command's: the run goes on
    // and counts dns errors (connection::connect), so thresholds and the summary judge it.
    auto results = resolver.resolve(options.url.host, std::to_string(options.url.port), ec);
    if (!ec)
      for (const auto& r : results) plan.endpoints.push_back(r.endpoint());
  }
  std::vector<request_template> mix = options.requests;
  if (mix.empty()) {
    request_template r;
    r.target = options.url.target;
    mix.push_back(r);
  }
  for (auto& r : mix) {
    if (r.target.empty()) r.target = options.url.target;
    plan.wire.push_back(serialize_request(r, options.url));
    plan.head.push_back(r.method == "HEAD");
    add_expectation(plan, r);
    plan.idempotent.push_back(probes::is_idempotent(r.method));
    plan.idle_close_message.push_back(plan.names.back() + ": reset: the server closed the idle keep-alive connection "
                                      "before answering; not resent (" + r.method + " is not idempotent)");
    plan.total_weight += r.weight;
    plan.cumulative_weight.push_back(plan.total_weight);
  }
  plan.secrets.merge(options.secrets);
  run_state state(options, observer);
  return state.run(plan);
}

}  // namespace watchpost::loadgen
