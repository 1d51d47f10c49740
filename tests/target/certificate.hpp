#pragma once
// A self-signed certificate made in-process (OpenSSL 3), for the HTTPS listener.
#include <filesystem>
#include <string>

namespace watchpost::test_target {

struct certificate {
  std::string cert_pem;
  std::string key_pem;
};

// EC P-256 key; CN=localhost; SAN DNS:localhost, IP:127.0.0.1, IP:::1; valid from one hour ago
// until `days` from now. Negative `days` gives an already-expired certificate (its notBefore
// is then moved a day before notAfter so the validity window stays well-formed).
// Throws std::runtime_error with OpenSSL's message on failure.
certificate make_self_signed(int days);

// A fresh private directory (mkdtemp under $TMPDIR or /tmp). Throws on failure.
std::filesystem::path make_temp_dir();

// Writes `text` to `path` (truncating). Throws on failure.
void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace watchpost::test_target
