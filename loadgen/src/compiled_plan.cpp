#include "watchpost/loadgen/compiled_plan.hpp"

#include "watchpost/probes/wire.hpp"

namespace watchpost::loadgen {

namespace {

// What is checked on every response, and what only on a sample.
void add_expectation(compiled_request& out, const planned_request& r) {
  const probes::status_rule any_status{{}, {1, 2, 3, 4, 5}};
  const probes::status_rule success_or_redirect{{}, {2, 3}};  // the suites' default
  const probes::expectation* e = r.expect ? &*r.expect : nullptr;
  if (e && e->status)
    out.status = *e->status;
  else if (e && e->redirect_to_https)
    out.status = any_status;  // the redirect rule judges it
  else
    out.status = success_or_redirect;
  const bool beyond_status =
      e && (!e->headers.empty() || !e->body.empty() || !e->json.empty() || e->latency_ms ||
            e->redirect_to_https || e->cors_no_wildcard_with_credentials);
  if (beyond_status) out.sampled = *e;
  out.sample = r.sample;
  out.keep_body = beyond_status && (!e->body.empty() || !e->json.empty());
}

}  // namespace

std::variant<compiled_plan, plan_compile_error> compile_plan(const load_options& options) {
  compiled_plan plan;
  std::vector<planned_request> mix = options.requests;
  if (mix.empty()) mix.emplace_back().target = options.url.target;
  const std::string authority = options.url.authority();
  for (auto& r : mix) {
    if (r.target.empty()) r.target = options.url.target;
    compiled_request& c = plan.requests.emplace_back();
    c.name = r.name.empty() ? r.method + " " + r.target : r.name;
    if (!probes::serialize_request(r.method, r.target, r.headers, r.body, authority, {}, c.wire))
      return plan_compile_error{c.name + ": the method, path or a header contains a line break or space"};
    c.head = r.method == "HEAD";
    c.idempotent = probes::is_idempotent(r.method);
    c.idle_close_message = c.name +
                           ": reset: the server closed the idle keep-alive connection "
                           "before answering; not resent (" +
                           r.method + " is not idempotent)";
    add_expectation(c, r);
    for (const auto& h : r.headers)
      if (probes::is_credential_header(h.name)) plan.secrets.add_credential_header(h.value);
    plan.total_weight += r.weight;
    plan.cumulative_weight.push_back(plan.total_weight);
  }
  plan.secrets.merge(options.secrets);
  return plan;
}

}  // namespace watchpost::loadgen
