// compiled_plan: what the engine runs, compiled from a resolved plan, and the per-request choices
// over it (which request, whether to sample it), tested without sockets.
#include "watchpost/loadgen/compiled_plan.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "plan_values.hpp"

using namespace watchpost;
using namespace watchpost::loadgen;
using watchpost::testing::compiled_of;
using watchpost::testing::resolved_of;

TEST_CASE("compile_plan serialises each request once, the url's path when the plan gives none") {
  const auto plan = compiled_of("url: http://127.0.0.1:8080/health?x=1\n");
  REQUIRE(plan.requests.size() == 1);
  const auto& r = plan.requests[0];
  CHECK(r.wire == "GET /health?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
  CHECK(r.name == "GET /health?x=1");
  CHECK_FALSE(r.head);
  CHECK(r.idempotent);
  CHECK_FALSE(r.sampled);
  // The suites' default status rule: 2xx and 3xx pass.
  CHECK(r.status.matches(204));
  CHECK(r.status.matches(301));
  CHECK_FALSE(r.status.matches(404));
}

TEST_CASE("compile_plan keeps for sampling only the rules beyond the status, and masks credentials") {
  const auto plan = compiled_of(R"(url: http://127.0.0.1:8080
requests:
  - { name: home, method: HEAD, path: /, expect: { status: 200 } }
  - name: upload
    method: POST
    path: /echo
    headers: { Authorization: Bearer s3cret }
    body: '{"a":1}'
    expect: { status: [200, 201], json: { $.ok: true } }
    sample: 10%
)");
  REQUIRE(plan.requests.size() == 2);
  const auto& home = plan.requests[0];
  CHECK(home.head);
  CHECK_FALSE(home.sampled);  // a status rule alone is checked on every response, never sampled
  CHECK(home.status.matches(200));
  CHECK_FALSE(home.status.matches(201));
  const auto& upload = plan.requests[1];
  CHECK_FALSE(upload.idempotent);
  CHECK_THAT(upload.idle_close_message,
             Catch::Contains("upload: reset") && Catch::Contains("POST is not idempotent"));
  CHECK(upload.sampled);
  CHECK(upload.keep_body);  // json: reads the body
  CHECK(upload.sample == Approx(0.1));
  CHECK_THAT(upload.wire, Catch::EndsWith("Content-Length: 7\r\n\r\n{\"a\":1}"));
  CHECK(plan.secrets("token s3cret") == "token ***");
}

TEST_CASE("compile_plan refuses a request the wire cannot frame: CR/LF reaches neither client") {
  auto options = resolved_of("url: http://127.0.0.1:8080\n").options;
  planned_request r;
  r.name = "injected";
  r.headers = {{"X-Id", "1\r\nInjected: yes"}};
  options.requests = {r};
  auto compiled = compile_plan(options);
  REQUIRE(std::holds_alternative<plan_compile_error>(compiled));
  CHECK_THAT(std::get<plan_compile_error>(compiled).message,
             Catch::StartsWith("injected: ") && Catch::Contains("line break"));
}

TEST_CASE("request_picker follows the weights and is reproducible from its seed") {
  const auto plan = compiled_of(R"(url: http://127.0.0.1:8080
requests: [ { path: /a, weight: 3 }, { path: /b, weight: 1 } ]
)");
  constexpr int n = 40000;
  auto picks = [&](std::uint64_t seed) {
    request_picker picker(seed);
    std::vector<std::size_t> out;
    for (int i = 0; i < n; ++i) out.push_back(picker.next(plan));
    return out;
  };
  const auto first = picks(42);
  CHECK(first == picks(42));
  CHECK(first != picks(43));
  CHECK(static_cast<double>(std::count(first.begin(), first.end(), 0)) / n == Approx(0.75).margin(0.01));
  const auto single = compiled_of("url: http://127.0.0.1:8080\n");
  CHECK(request_picker(7).next(single) == 0);
}

TEST_CASE("response_sampler takes the first response of a request, then one per 1/sample") {
  const auto plan = compiled_of(R"(url: http://127.0.0.1:8080
requests:
  - { path: /a, expect: { body: { contains: ok } }, sample: 1% }
  - { path: /b, expect: { status: 200 } }
)");
  response_sampler sampler(plan);
  std::vector<int> taken;
  for (int i = 1; i <= 250; ++i)
    if (sampler.take(plan, 0)) taken.push_back(i);
  CHECK(taken == std::vector<int>{1, 101, 201});
  for (int i = 0; i < 10; ++i) CHECK_FALSE(sampler.take(plan, 1));  // nothing to sample
}
