// parse_url and resolve_reference on arbitrary text. The input is a base URL and a reference
// separated by the first newline. Invariants: an accepted URL prints as text that parses back
// to the same URL (the request line and Host header are built from these fields), its port is
// set and its target is an origin-form path; the same holds for a resolved reference.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "watchpost/probes/url.hpp"

namespace {

using watchpost::probes::url;

bool same(const url& a, const url& b) {
  return a.tls == b.tls && a.host == b.host && a.port == b.port && a.target == b.target;
}

void check_url(const url& u, std::string_view from) {
  const auto again = watchpost::probes::parse_url(u.to_string());
  const url* back = std::get_if<url>(&again);
  const bool ok = u.port != 0 && !u.host.empty() && !u.target.empty() && u.target.front() == '/' && back &&
                  same(u, *back);
  if (!ok) {
    std::fprintf(stderr, "'%.*s' -> '%s' does not parse back to itself%s%s\n", static_cast<int>(from.size()),
                 from.data(), u.to_string().c_str(), back ? "" : ": ",
                 back ? "" : std::get<watchpost::probes::url_error>(again).message.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view base_text = input.substr(0, newline);
  const auto base = watchpost::probes::parse_url(base_text);
  const url* b = std::get_if<url>(&base);
  if (!b) return 0;
  check_url(*b, base_text);
  if (newline == std::string_view::npos) return 0;
  const std::string_view reference = input.substr(newline + 1);
  const auto resolved = watchpost::probes::resolve_reference(*b, reference);
  if (const url* r = std::get_if<url>(&resolved)) check_url(*r, reference);
  return 0;
}
