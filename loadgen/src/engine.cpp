// run_load: the setup before any traffic (compile the plan, resolve the name once, load the TLS
// context), then the run. The hot path is callbacks rather than coroutines (connection.cpp):
// a connection is a small state machine, which keeps per-connection memory to a few hundred
// bytes (no read buffer per connection, so 10,000 connections cost far less than wrk's 8 KiB
// each) and compiles in seconds.
#include "watchpost/loadgen/engine.hpp"

#include <sys/resource.h>

#include <boost/asio/ssl/context.hpp>
#include <stdexcept>

#include "run_state.hpp"
#include "uring.hpp"
#include "watchpost/common/exit_error.hpp"
#include "watchpost/loadgen/compiled_plan.hpp"

namespace watchpost::loadgen {

namespace {

void raise_open_file_limit() {
  // 10,000 connections need 10,000 descriptors; the soft limit is often 1,024.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// Empty when the name does not resolve: that is the target's failure, not the command's, so the
// run goes on and counts dns errors (connection::connect) for thresholds and the summary to judge.
std::vector<boost::asio::ip::tcp::endpoint> resolve_once(const probes::url& url) {
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::resolver resolver(ctx);
  boost::system::error_code ec;
  auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
  std::vector<boost::asio::ip::tcp::endpoint> out;
  if (!ec)
    for (const auto& r : results) out.push_back(r.endpoint());
  return out;
}

struct backend_choice {
  bool on_ring = false;
  std::string reason;  // why not io_uring
};

backend_choice choose_backend(const load_options& options) {
  if (options.io == io_choice::epoll) return {false, "--io epoll"};
  if (options.url.tls) return {false, "https runs on epoll (OpenSSL drives the socket)"};
  std::string why = uring::unavailable();
  if (why.empty()) return {true, ""};
  if (options.io == io_choice::uring)
    throw usage_error("--io uring: " + why + " (--io auto falls back to epoll)");
  return {false, std::move(why)};
}

}  // namespace

load_result run_load(const load_options& options, const interval_observer& observer) {
  if (options.threads == 0) throw std::runtime_error("need at least one thread");
  auto compiled = compile_plan(options);
  if (auto* error = std::get_if<plan_compile_error>(&compiled)) throw usage_error(error->message);
  const compiled_plan& plan = std::get<compiled_plan>(compiled);
  raise_open_file_limit();

  network_target target;
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  if (options.url.tls) {
    tls_context = probes::make_tls_context(options.tls);  // throws for an unreadable --ca-file
    target.tls = tls_context->native_handle();
    target.peer.emplace(options.url.host);
  }
  target.endpoints = resolve_once(options.url);
  backend_choice backend = choose_backend(options);
  run_state state(options, observer);
  try {
    state.prepare(plan, target, backend.on_ring);
  } catch (const uring::setup_error& e) {
    // The probe passed but a worker's ring did not: the same choice as a refused probe.
    if (options.io == io_choice::uring) throw usage_error(std::string("--io uring: ") + e.what());
    backend = {false, e.what()};
    state.prepare(plan, target, false);
  }
  load_result result = state.run();
  result.io_backend = backend.on_ring ? "uring" : "epoll";
  result.io_backend_reason = backend.reason;
  return result;
}

}  // namespace watchpost::loadgen
