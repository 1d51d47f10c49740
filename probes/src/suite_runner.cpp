// The suite runner: the only coroutine translation unit of suites (Beast/Asio coroutine
// bodies are expensive to compile; keep them here). Everything runs on one io_context.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

#include "watchpost/probes/http_client.hpp"
#include "watchpost/probes/suite.hpp"

namespace watchpost::probes {

namespace net = boost::asio;
using net::awaitable;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

awaitable<void> sleep_for(nanoseconds d) {
  net::steady_timer timer(co_await net::this_coro::executor, d);
  co_await timer.async_wait(use_tuple);
}

// Runs every task concurrently on the current executor and waits for all of them.
// The first exception (a bug or setup error, never a network fault) is rethrown.
awaitable<void> run_concurrently(std::vector<std::function<awaitable<void>()>> tasks) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer all_done(executor, net::steady_timer::time_point::max());
  std::size_t pending = tasks.size();
  std::exception_ptr first_error;
  for (auto& task : tasks) {
    net::co_spawn(executor, task(), [&](std::exception_ptr e) {
      if (e && !first_error) first_error = e;
      // Expiring (rather than cancelling) also releases a wait that has not started yet.
      if (--pending == 0) all_done.expires_at(net::steady_timer::time_point::min());
    });
  }
  while (pending > 0) co_await all_done.async_wait(use_tuple);
  if (first_error) std::rethrow_exception(first_error);
}

struct rendered_request {
  std::optional<request> req;
  std::string error;
  std::string line;  // "METHOD path" for reports
};

// The redactor slot of a secret a run learns: per target, check and name, so the next run's value
// replaces this one (bounded over weeks of runs) while concurrent targets keep their own.
std::string secret_slot(const std::string& base_url, std::size_t check_index, std::string_view kind,
                        const std::string& name) {
  return base_url + '\n' + std::to_string(check_index) + '\n' + std::string(kind) + '\n' + name;
}

rendered_request render(const suite& s, std::size_t index, const std::string& base_url,
                        const std::map<std::string, std::string>& captures) {
  const check& c = s.checks[index];
  rendered_request out;
  const std::string path = c.request.path.render(captures);
  out.line = c.request.method + " " + path;
  auto target = resolve_check_url(base_url, path);
  if (auto* e = std::get_if<url_error>(&target)) {
    out.error = "request: invalid URL '" + base_url + path + "': " + e->message;
    return out;
  }
  request req;
  req.method = c.request.method;
  req.version = c.version.value_or(s.version);
  req.target = std::get<url>(std::move(target));
  for (const auto& [name, value] : s.default_headers) req.headers.push_back({name, value});
  for (const auto& [name, value] : c.request.headers) {
    std::string v = value.render(captures);
    if (!value.is_literal() && is_credential_header(name))
      s.secrets->set_credential_slot(secret_slot(base_url, index, "header", name), v);
    bool replaced = false;
    for (auto& h : req.headers)
      if (iequals(h.name, name)) replaced = (h.value = v, true);
    if (!replaced) req.headers.push_back({name, std::move(v)});
  }
  req.body = c.request.body.render(captures);
  if (!req.body.empty() && !find_header(req.headers, "Content-Type"))
    req.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  out.req = std::move(req);
  return out;
}

// Extracts every capture of a passed check; false (with a failure message) if one is missing.
bool take_captures(const suite& s, std::size_t index, const std::string& base_url, check_outcome& o,
                   std::map<std::string, std::string>& captures) {
  const check& c = s.checks[index];
  std::map<std::string, std::string> taken;
  for (const auto& cap : c.captures) {
    std::optional<std::string> value;
    std::string where;
    switch (cap.from) {
      case capture_rule::source::json: {
        where = cap.path.text;
        const json_lookup v = evaluate_jsonpath(cap.path, o.response.body);
        if (v.type == json_type::string)
          value = v.string_value;
        else if (v.type != json_type::missing)
          value = v.json;
        break;
      }
      case capture_rule::source::header:
        where = "header " + cap.header;
        if (const std::string* h = o.response.header(cap.header)) value = *h;
        break;
      case capture_rule::source::regex: {
        where = "/" + cap.regex.source + "/";
        value = cap.regex.capture(o.response.body);
        break;
      }
    }
    if (!value) {
      o.failures.push_back("capture " + cap.name + ": expected " + where + " in the response, got nothing");
      o.kind = failure_kind::assertion;
      return false;
    }
    if (cap.secret || (cap.from == capture_rule::source::header && is_credential_header(cap.header)))
      s.secrets->set_slot(secret_slot(base_url, index, "capture", cap.name), *value);
    taken[cap.name] = std::move(*value);
  }
  captures.merge(taken);
  return true;
}

// One client per distinct timeout, so sequential checks share keep-alive connections.
class client_pool {
 public:
  client_pool(net::any_io_executor executor, const client_options& options)
      : executor_(executor), options_(options) {}
  http_client& get(nanoseconds total_timeout) {
    for (auto& [timeout, client] : clients_)
      if (timeout == total_timeout) return *client;
    client_options o = options_;
    o.total_timeout = total_timeout;
    o.connect_timeout = std::min(o.connect_timeout, total_timeout);
    o.tls_timeout = std::min(o.tls_timeout, total_timeout);
    clients_.emplace_back(total_timeout, std::make_unique<http_client>(executor_, o));
    return *clients_.back().second;
  }

 private:
  net::any_io_executor executor_;
  client_options options_;
  std::vector<std::pair<nanoseconds, std::unique_ptr<http_client>>> clients_;
};

struct run_state {
  const suite& s;
  std::string base_url;
  std::map<std::string, std::string> captures;
};

awaitable<check_outcome> run_check(run_state& st, std::size_t index, http_client& client) {
  const check& c = st.s.checks[index];
  const auto started = monotonic_clock::now();
  for (const auto& need : c.needs) {
    if (!st.captures.contains(need)) {
      check_outcome o;
      o.name = c.name;
      o.skipped = true;
      o.skip_reason = "needs capture '" + need + "' from a check that failed";
      co_return o;
    }
  }
  const rendered_request r = render(st.s, index, st.base_url, st.captures);
  check_outcome o;
  if (!r.req) {
    o.name = c.name;
    o.kind = failure_kind::protocol;
    o.failures.push_back(r.error);
  } else {
    for (int attempt = 0; attempt <= c.retries; ++attempt) {
      if (attempt > 0) co_await sleep_for(c.retry_interval);
      o = judge(c.name, c.expect, co_await client.send(*r.req), st.captures, *st.s.secrets);
      o.attempts = attempt + 1;
      if (o.passed()) break;
    }
    if (o.passed()) take_captures(st.s, index, st.base_url, o, st.captures);
  }
  o.request_line = r.line;
  o.duration = monotonic_clock::now() - started;
  co_return o;
}

// Dependency depth of each check: 0 without captures used, else 1 + the depth of the checks
// that declare them. Checks of one depth are independent of each other.
std::vector<std::size_t> dependency_levels(const suite& s) {
  std::map<std::string, std::size_t> declared_at;
  std::vector<std::size_t> level(s.checks.size(), 0);
  for (std::size_t i = 0; i < s.checks.size(); ++i) {
    for (const auto& need : s.checks[i].needs)
      if (auto it = declared_at.find(need); it != declared_at.end())
        level[i] = std::max(level[i], level[it->second] + 1);
    for (const auto& cap : s.checks[i].captures) declared_at[cap.name] = i;
  }
  return level;
}

// Every client of a run shares one TLS context. The trust store is loaded only when some
// request may use TLS: reading the system store costs more than a whole loopback suite.
client_options with_shared_tls_context(const suite& s, const std::vector<std::string>& bases,
                                       const client_options& options) {
  client_options shared = options;
  if (shared.tls_context) return shared;
  bool may_use_tls = false;
  for (const auto& b : bases) may_use_tls = may_use_tls || b.starts_with("https:");
  for (const auto& c : s.checks) {
    // Only the start of a path can make it an https URL (literally or through a capture).
    const auto& parts = c.request.path.parts;
    if (parts.empty()) continue;
    const auto* head = std::get_if<std::string>(&parts.front());
    may_use_tls = may_use_tls || !head || head->starts_with("https:");
  }
  if (may_use_tls) {
    shared.tls_context = make_tls_context(shared.tls);
  } else if (!shared.tls.ca_file.empty()) {
    // Clients load a given ca_file up front; a bare context spares each of them that.
    shared.tls_context = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
  }
  // Otherwise none at all: OpenSSL's first SSL_CTX_new fetches every algorithm (~2-3 ms of a
  // 10-check loopback run), and a client that meets https anyway builds its own.
  return shared;
}

}  // namespace

awaitable<suite_result> run_suite(const suite& s, std::string base_url,
                                  const client_options& caller_options) {
  suite_result out;
  out.suite_name = s.name;
  out.target = base_url.empty() ? s.base_url : base_url;
  const client_options options = with_shared_tls_context(s, {out.target}, caller_options);
  out.started = std::chrono::system_clock::now();
  const auto started = monotonic_clock::now();
  run_state st{s, out.target, {}};
  auto executor = co_await net::this_coro::executor;
  out.checks.resize(s.checks.size());

  if (!s.parallel) {
    client_pool pool(executor, options);
    for (std::size_t i = 0; i < s.checks.size(); ++i) {
      const check& c = s.checks[i];
      out.checks[i] = co_await run_check(st, i, pool.get(c.timeout.value_or(s.timeout)));
    }
  } else {
    const auto level = dependency_levels(s);
    const std::size_t deepest = level.empty() ? 0 : *std::max_element(level.begin(), level.end());
    for (std::size_t depth = 0; depth <= deepest; ++depth) {
      std::vector<std::function<awaitable<void>()>> tasks;
      for (std::size_t i = 0; i < s.checks.size(); ++i) {
        if (level[i] != depth) continue;
        tasks.push_back([&, i]() -> awaitable<void> {
          const check& c = s.checks[i];
          client_options o = options;
          o.total_timeout = c.timeout.value_or(s.timeout);
          o.connect_timeout = std::min(o.connect_timeout, o.total_timeout);
          http_client client(executor, o);  // concurrent checks need their own connections
          out.checks[i] = co_await run_check(st, i, client);
        });
      }
      co_await run_concurrently(std::move(tasks));
    }
  }
  out.duration = monotonic_clock::now() - started;
  co_return out;
}

awaitable<bool> wait_ready(const suite& s, std::string base_url, const client_options& options,
                           nanoseconds budget) {
  if (s.checks.empty()) co_return true;
  const auto deadline = monotonic_clock::now() + budget;
  const rendered_request r = render(s, 0, base_url.empty() ? s.base_url : base_url, {});
  if (!r.req) co_return false;
  auto executor = co_await net::this_coro::executor;
  constexpr auto poll_interval = std::chrono::milliseconds(250);
  // Bounded by the deadline: every attempt and every pause is clipped to what is left.
  for (;;) {
    const auto left = deadline - monotonic_clock::now();
    if (left <= nanoseconds::zero()) co_return false;
    client_options o = options;
    o.keep_alive = false;
    o.total_timeout = std::min<nanoseconds>(std::min<nanoseconds>(o.total_timeout, s.timeout), left);
    o.connect_timeout = std::min<nanoseconds>(o.connect_timeout, o.total_timeout);
    o.tls_timeout = std::min<nanoseconds>(o.tls_timeout, o.total_timeout);
    http_client client(executor, o);
    const result res = co_await client.send(*r.req);
    if (res.status != 0) co_return true;  // any HTTP answer means the deployment is up
    co_await sleep_for(std::min<nanoseconds>(poll_interval, deadline - monotonic_clock::now()));
  }
}

std::vector<std::optional<suite_result>> run_suite_on_targets(const suite& s,
                                                              const std::vector<std::string>& targets,
                                                              const client_options& options,
                                                              std::optional<nanoseconds> wait_budget) {
  std::vector<std::string> bases = targets.empty() ? std::vector<std::string>{s.base_url} : targets;
  const client_options shared = with_shared_tls_context(s, bases, options);
  std::vector<std::optional<suite_result>> results(bases.size());
  net::io_context ioc(1);
  std::exception_ptr error;
  for (std::size_t i = 0; i < bases.size(); ++i) {
    net::co_spawn(
        ioc,
        [&, i]() -> awaitable<void> {
          if (wait_budget && !co_await wait_ready(s, bases[i], shared, *wait_budget)) co_return;
          results[i] = co_await run_suite(s, bases[i], shared);
        },
        [&](std::exception_ptr e) {
          if (e && !error) error = e;
        });
  }
  ioc.run();
  if (error) std::rethrow_exception(error);
  return results;
}

}  // namespace watchpost::probes
