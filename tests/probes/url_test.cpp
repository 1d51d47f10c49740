#include "watchpost/probes/url.hpp"

#include <catch2/catch.hpp>

using namespace watchpost::probes;

namespace {
url ok(std::string_view text) {
  auto parsed = parse_url(text);
  INFO(text);
  REQUIRE(std::holds_alternative<url>(parsed));
  return std::get<url>(parsed);
}
std::string error_of(std::string_view text) {
  auto parsed = parse_url(text);
  INFO(text);
  REQUIRE(std::holds_alternative<url_error>(parsed));
  return std::get<url_error>(parsed).message;
}
}  // namespace

TEST_CASE("URLs parse into scheme, host, port and target") {
  auto u = ok("http://example.com");
  CHECK_FALSE(u.tls);
  CHECK(u.host == "example.com");
  CHECK(u.port == 80);
  CHECK(u.target == "/");

  u = ok("https://example.com:8443/a/b?x=1&y=%20");
  CHECK(u.tls);
  CHECK(u.port == 8443);
  CHECK(u.target == "/a/b?x=1&y=%20");
  CHECK(u.authority() == "example.com:8443");

  u = ok("https://[::1]:9000/health");
  CHECK(u.host == "::1");
  CHECK(u.authority() == "[::1]:9000");
  CHECK(u.to_string() == "https://[::1]:9000/health");
  CHECK(is_ip_literal(u.host));
  CHECK(is_ip_literal("127.0.0.1"));
  CHECK_FALSE(is_ip_literal("localhost"));
}

TEST_CASE("malformed URLs get a one-line reason") {
  CHECK_THAT(error_of(""), Catch::Contains("empty"));
  CHECK_THAT(error_of("example.com/health"), Catch::Contains("no scheme"));
  CHECK_THAT(error_of("ftp://example.com/"), Catch::Contains("unsupported scheme 'ftp'"));
  CHECK_THAT(error_of("http:///path"), Catch::Contains("empty host"));
  CHECK_THAT(error_of("http://example.com:0/"), Catch::Contains("invalid port"));
  CHECK_THAT(error_of("http://example.com:99999/"), Catch::Contains("URL"));
  CHECK_THAT(error_of("http://user:pw@example.com/"), Catch::Contains("credentials"));
  CHECK_THAT(error_of("http://exa mple.com/"), Catch::Contains("malformed"));
  for (auto text : {"http://exa mple.com/", "http://user:pw@example.com/"})
    CHECK(error_of(text).find('\n') == std::string::npos);
}

TEST_CASE("redirect locations resolve against the answering URL") {
  auto base = ok("http://127.0.0.1:8080/a/b");
  CHECK(std::get<url>(resolve_reference(base, "/c")).to_string() == "http://127.0.0.1:8080/c");
  CHECK(std::get<url>(resolve_reference(base, "d?x=1")).to_string() == "http://127.0.0.1:8080/a/d?x=1");
  CHECK(std::get<url>(resolve_reference(base, "https://[::1]:443/")).to_string() == "https://[::1]/");
  CHECK(std::holds_alternative<url_error>(resolve_reference(base, "ftp://x/")));
}

// Found by fuzz_url_parse: host() percent-decodes, so "%20" or "%0d%0a" reached the request line
// and the Host header (tests/fuzz/corpus/url_parse/percent_encoded_host).
TEST_CASE("percent-encoded hosts that decode to characters no host name has are rejected") {
  for (auto text :
       {"http://exa%20b", "http://evil%0d%0aX-Injected:%20yes/", "http://a%2Fb/", "http://a%00b/"})
    CHECK_THAT(error_of(text), Catch::Contains("invalid host name"));
  CHECK(ok("http://ex%61mple.com/").host == "example.com");
  CHECK(ok("http://127.0.0.1:8080/").host == "127.0.0.1");
}

TEST_CASE("a password in a URL never reaches the error that rejects it") {
  for (auto text : {"http://user:s3cr3t-pw@example.com/", "https://user:s3cr3t-pw@example.com:99999/x",
                    "http://user:s3cr3t-pw@exa mple.com/", "http://s3cr3t-pw@[::1/"}) {
    const std::string error = error_of(text);
    CHECK_FALSE(error.empty());
    CHECK(error.find("s3cr3t") == std::string::npos);
    CHECK_THAT(error, Catch::Contains("***@"));
  }
  // An '@' in the path is not userinfo: nothing is masked there.
  CHECK_THAT(error_of("ftp://example.com/a@b"), Catch::Contains("'ftp://example.com/a@b'"));
}
