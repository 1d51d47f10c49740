// `watchpost probe` end to end: the real binary against the real test target.
#include <catch2/catch.hpp>

#include "process.hpp"

using namespace std::chrono_literals;
using watchpost::testing::run_watchpost;
using watchpost::testing::test_target;

namespace {
test_target& target() {
  static test_target t;
  return t;
}
bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }
}  // namespace

TEST_CASE("probe prints status and phase timings and exits 0") {
  auto r = run_watchpost({"probe", target().http_url("/health")});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("-> HTTP/1.1 200 OK"));
  for (auto phase : {"resolve", "connect", "ttfb", "transfer", "total"})
    CHECK_THAT(r.out, Catch::Contains(phase));
}

TEST_CASE("probe exits 1 with the failure kind on a failed probe") {
  auto r = run_watchpost({"probe", target().http_url("/status/500")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("FAIL status"));

  r = run_watchpost({"probe", target().https_url("/health")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("FAIL tls_verify"));
}

TEST_CASE("probe --timeout bounds a stalled server") {
  auto r = run_watchpost({"probe", target().http_url("/stall"), "--timeout", "300ms"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("FAIL timeout"));
  CHECK(r.wall < 1s);
}

TEST_CASE("probe reports the final status after 103 Early Hints and fails on a 503") {
  auto r = run_watchpost({"probe", target().http_url("/interim?code=103&then=503")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("-> HTTP/1.1 503") && Catch::Contains("FAIL status"));
  CHECK_THAT(r.out, !Catch::Contains("Early Hints"));
  r = run_watchpost({"probe", target().http_url("/interim?code=103&then=503"), "--json"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\"status\":503") && Catch::Contains("\"reconnects\":0"));
}

TEST_CASE("probe --json prints one JSON object with the failure kind") {
  auto r =
      run_watchpost({"probe", target().https_url("/health"), "--ca-file", target().cert_file(), "--json"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("{") && Catch::Contains("\"result\":\"ok\"") &&
                        Catch::Contains("\"cert_days_left\"") && Catch::Contains("\"ttfb\""));
  r = run_watchpost({"probe", target().http_url("/reset"), "--json"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\"result\":\"reset\""));
}

TEST_CASE("probe --insecure skips verification") {
  CHECK(run_watchpost({"probe", target().https_url("/health"), "--insecure"}).exit_code == 0);
}

TEST_CASE("a request header value never appears in the output, though the server echoes it back") {
  // /headers answers with the request's headers as its JSON body: the token really travels there
  // and back, so a probe that printed its request, the body or an excerpt of it would show it.
  const std::string token = "probe-secret-token";
  const std::string header = "Authorization: Bearer " + token;
  const std::string echoed = R"("authorization":"Bearer )" + token + R"(",)";
  auto body_bytes = [](const std::string& json) {
    const std::string field = "\"body_bytes\":";
    const auto at = json.find(field);
    return at == std::string::npos ? -1 : std::stol(json.substr(at + field.size()));
  };
  const auto plain = run_watchpost({"probe", target().http_url("/headers"), "--json"});
  auto r = run_watchpost({"probe", target().http_url("/headers"), "-H", header, "--json"});
  CHECK(r.exit_code == 0);
  CHECK(body_bytes(r.out) - body_bytes(plain.out) == static_cast<long>(echoed.size()));
  CHECK(r.out.find(token) == std::string::npos);
  CHECK(r.err.find(token) == std::string::npos);

  // Failing probes print their reason: it names the cap, not the body that carried the token.
  r = run_watchpost({"probe", target().http_url("/headers"), "-H", header, "--max-body", "40"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("FAIL body_too_large: response body exceeds 40 bytes"));
  CHECK(r.out.find(token) == std::string::npos);
  r = run_watchpost({"probe", target().http_url("/headers"), "-H", header, "--max-body", "40", "--json"});
  CHECK_THAT(r.out, Catch::Contains("\"result\":\"body_too_large\""));
  CHECK(r.out.find(token) == std::string::npos);

  // A header the option parser refuses is named in the one-line error, its value is not.
  r = run_watchpost({"probe", target().http_url("/health"), "-H", header + "\r\nX-Injected: 1"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("header name 'Authorization'"));
  CHECK(r.err.find(token) == std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("bad input exits 2 with a one-line error") {
  const std::vector<std::vector<std::string>> cases = {
      {"probe", "not a url"},
      {"probe", "ftp://127.0.0.1/"},
      {"probe", "http:///health"},
      {"probe", "http://127.0.0.1:99999/"},
      {"probe"},
      {"probe", "http://127.0.0.1/", "--bogus"},
      {"probe", "http://127.0.0.1/", "--time", "1s"},  // abbreviations of --timeout are not guessed
      {"probe", "http://127.0.0.1/", "--timeout", "soon"},
      {"probe", "http://127.0.0.1/", "-H", "no colon"},
      {"probe", "https://127.0.0.1/", "--ca-file", "/nonexistent.pem"},
      {"frobnicate"},
  };
  for (const auto& args : cases) {
    INFO(args.back());
    auto r = run_watchpost(args);
    CHECK(r.exit_code == 2);
    CHECK(one_line(r.err));
    CHECK(r.out.empty());
  }
}
