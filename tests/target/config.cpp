#include "config.hpp"

#include <charconv>
#include <functional>

namespace watchpost::test_target {

const char* const usage =
    "usage: watchpost-test-target [--port N] [--tls-port N] [--no-tls] [--redirect-plain] [--threads N]\n"
    "                             [--cert-days D] [--profile good|bad] [--token T]\n"
    "                             [--listen-delay DUR] [--freeze-at DUR --freeze-for DUR]\n"
    "                             [--idle-timeout DUR] [--no-h2] [--h2-max-streams N] [--h2-goaway-after N]\n"
    "  --idle-timeout  close a keep-alive connection (FIN, no response) when no request byte\n"
    "                  arrives this long after the previous response\n"
    "  --no-h2         HTTP/1.1 only: ALPN offers http/1.1 alone, no h2c prior knowledge\n"
    "  --h2-max-streams N   SETTINGS_MAX_CONCURRENT_STREAMS (1..1000, default 100)\n"
    "  --h2-goaway-after N  GOAWAY (NO_ERROR) once a connection has received N streams; later\n"
    "                  streams are refused (RST_STREAM REFUSED_STREAM)\n"
    "routes (listed in routes.hpp) include the protocol faults /interim?code=103&count=1&then=200,\n"
    "/switching (101 without an upgrade asked) and /hostile/NAME (raw framing faults; an unknown\n"
    "NAME answers 404 with the list).\n";

std::optional<profile> profile::named(std::string_view name) {
  if (name == "good") return profile{};
  if (name == "bad") {
    profile p;
    p.hsts = false;
    p.admin_requires_auth = false;
    p.cors_wildcard_with_credentials = true;
    p.redirect_to_https = false;
    return p;
  }
  return std::nullopt;
}

namespace {

template <class Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

parse_result parse_args(int argc, char** argv) {
  parse_result out;
  config& c = out.cfg;
  std::optional<nanoseconds> freeze_for;
  auto error = [&](std::string_view opt, std::string_view msg) {
    out.errors.push_back(std::string(opt) + ": " + std::string(msg));
  };

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string_view> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    // Runs `apply` on the option's value ("--opt v" or "--opt=v").
    auto with_value = [&](const std::function<void(std::string_view)>& apply) {
      if (inline_value) return apply(*inline_value);
      if (i + 1 >= argc) return error(arg, "needs a value");
      apply(argv[++i]);
    };
    auto port = [&](unsigned short& into) {
      with_value([&](std::string_view v) {
        if (auto n = parse_int<unsigned short>(v))
          into = *n;
        else
          error(arg, "not a port number: " + std::string(v));
      });
    };
    auto duration = [&](std::optional<nanoseconds>& into) {
      with_value([&](std::string_view v) {
        if (auto d = parse_duration(v))
          into = *d;
        else
          error(arg, "not a duration (e.g. 500ms, 2s): " + std::string(v));
      });
    };

    if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else if (arg == "--no-tls") {
      c.tls = false;
    } else if (arg == "--redirect-plain") {
      c.redirect_plain = true;
    } else if (arg == "--port") {
      port(c.port);
    } else if (arg == "--tls-port") {
      port(c.tls_port);
    } else if (arg == "--threads") {
      with_value([&](std::string_view v) {
        auto n = parse_int<unsigned>(v);
        if (n && *n >= 1 && *n <= 256)
          c.threads = *n;
        else
          error(arg, "expects 1..256: " + std::string(v));
      });
    } else if (arg == "--no-h2") {
      c.h2 = false;
    } else if (arg == "--h2-max-streams" || arg == "--h2-goaway-after") {
      with_value([&](std::string_view v) {
        auto n = parse_int<unsigned>(v);
        if (!n || *n < 1 || *n > 1000) return error(arg, "expects 1..1000: " + std::string(v));
        if (arg == "--h2-max-streams")
          c.h2_max_streams = *n;
        else
          c.h2_goaway_after = *n;
      });
    } else if (arg == "--cert-days") {
      with_value([&](std::string_view v) {
        auto n = parse_int<int>(v);
        if (n && *n >= -36500 && *n <= 36500)
          c.cert_days = *n;
        else
          error(arg, "expects an integer number of days: " + std::string(v));
      });
    } else if (arg == "--profile") {
      with_value([&](std::string_view v) {
        if (auto p = profile::named(v)) {
          c.prof = *p;
          c.profile_name = v;
        } else {
          error(arg, "expects good or bad: " + std::string(v));
        }
      });
    } else if (arg == "--token") {
      with_value([&](std::string_view v) {
        if (v.empty())
          error(arg, "must not be empty");
        else
          c.token = v;
      });
    } else if (arg == "--listen-delay") {
      std::optional<nanoseconds> d;
      duration(d);
      if (d) c.listen_delay = *d;
    } else if (arg == "--freeze-at") {
      duration(c.freeze_at);
    } else if (arg == "--freeze-for") {
      duration(freeze_for);
    } else if (arg == "--idle-timeout") {
      duration(c.idle_timeout);
      if (c.idle_timeout && *c.idle_timeout <= nanoseconds::zero()) error(arg, "must be positive");
    } else {
      out.errors.push_back("unknown option: " + std::string(argv[i]));
    }
  }

  if (c.freeze_at.has_value() != freeze_for.has_value())
    out.errors.push_back("--freeze-at and --freeze-for go together");
  if (freeze_for) c.freeze_for = *freeze_for;
  return out;
}

}  // namespace watchpost::test_target
