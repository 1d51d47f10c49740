// watchpost-test-target: argv -> config -> certificate -> run().
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <system_error>

#include "certificate.hpp"
#include "config.hpp"
#include "server.hpp"

int main(int argc, char** argv) {
  using namespace watchpost::test_target;
  const parse_result parsed = parse_args(argc, argv);
  if (parsed.help) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!parsed.errors.empty()) {
    for (const auto& e : parsed.errors) std::fprintf(stderr, "watchpost-test-target: %s\n", e.c_str());
    std::fputs(usage, stderr);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  std::filesystem::path dir;
  auto cleanup = [&] {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  };
  try {
    std::optional<tls_material> tls;
    if (parsed.cfg.tls) {
      certificate cert = make_self_signed(parsed.cfg.cert_days);
      dir = make_temp_dir();
      const auto path = dir / "cert.pem";
      write_file(path, cert.cert_pem);
      tls = tls_material{std::move(cert.cert_pem), std::move(cert.key_pem), path.string()};
    }
    const int rc = run(parsed.cfg, tls ? &*tls : nullptr);
    cleanup();
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "watchpost-test-target: %s\n", e.what());
    cleanup();
    return 1;
  }
}
