#pragma once
// Command line of watchpost-test-target, parsed into a value (no globals).
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <watchpost/common/duration.hpp>

namespace watchpost::test_target {

// Deliberate misconfigurations the target can present. One flag per behaviour, so a new
// profile is one more factory line and a new fault is one more flag.
struct profile {
  bool hsts = true;                             // Strict-Transport-Security on HTTPS responses
  bool admin_requires_auth = true;              // /admin/* demands the bearer token
  bool cors_wildcard_with_credentials = false;  // ACAO: * together with ACAC: true
  bool redirect_to_https = true;                // /redirect-https answers 301 (else 200)

  static std::optional<profile> named(std::string_view name);
};

struct config {
  unsigned short port = 0;      // plain HTTP; 0 = ephemeral
  unsigned short tls_port = 0;  // HTTPS; 0 = ephemeral
  bool tls = true;
  // Every request on the plain port is answered 301 -> https (a deployment's port-80
  // listener). Opt-in: other tests use the plain port's routes.
  bool redirect_plain = false;
  unsigned threads = 1;
  int cert_days = 90;  // negative: an already-expired certificate
  std::string profile_name = "good";
  profile prof;
  std::string token = "test-token";
  nanoseconds listen_delay{0};
  std::optional<nanoseconds> freeze_at;
  nanoseconds freeze_for{0};
  // A keep-alive connection with no request byte this long after a response is closed
  // without a response (Node's keepAliveTimeout, gunicorn's keepalive). None: 30 s.
  std::optional<nanoseconds> idle_timeout;
  // HTTP/2 (h2_session.hpp): offered by ALPN on TLS and taken with prior knowledge on plain.
  bool h2 = true;
  unsigned h2_max_streams = 100;            // SETTINGS_MAX_CONCURRENT_STREAMS
  std::optional<unsigned> h2_goaway_after;  // GOAWAY once a connection has received this many streams
};

struct parse_result {
  config cfg;
  std::vector<std::string> errors;  // all of them, not just the first
  bool help = false;
};

parse_result parse_args(int argc, char** argv);

extern const char* const usage;

}  // namespace watchpost::test_target
