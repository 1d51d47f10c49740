// Regular expressions of expectations: RE2, linear time whatever the body.
#include <re2/re2.h>

#include "watchpost/probes/check.hpp"

namespace watchpost::probes {

namespace {

// RE2's own default, stated so the bound is deliberate: a pattern whose program needs more fails at
// load time, and a search whose DFA cache fills up falls back to RE2's NFA, slower but still linear.
constexpr std::int64_t pattern_max_mem = std::int64_t{8} << 20;

re2::StringPiece piece(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

std::optional<pattern> pattern::compile(const std::string& source, std::string& error) {
  RE2::Options options;
  options.set_log_errors(false);  // RE2 would print every rejected pattern to stderr
  // Byte semantics, as bodies come in any encoding: in RE2's UTF-8 mode `.` skips invalid UTF-8,
  // so `<title>.*</title>` would miss a Latin-1 page. UTF-8 literals still match byte for byte.
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_max_mem(pattern_max_mem);
  auto re = std::make_shared<const RE2>(source, options);
  if (!re->ok()) {
    const bool unsupported = re->error_code() == RE2::ErrorBadPerlOp ||  // lookaround
                             re->error_code() == RE2::ErrorBadEscape;    // backreferences
    error = "invalid regular expression '" + source + "': " + re->error() +
            (unsupported ? " (RE2 syntax: no lookaround, no backreferences)" : "");
    return std::nullopt;
  }
  return pattern{source, std::move(re)};
}

bool pattern::search(std::string_view text) const { return re && RE2::PartialMatch(piece(text), *re); }

std::optional<std::string> pattern::capture(std::string_view text) const {
  if (!re) return std::nullopt;
  const int wanted = re->NumberOfCapturingGroups() > 0 ? 2 : 1;  // whole match, then group 1
  re2::StringPiece found[2];
  if (!re->Match(piece(text), 0, text.size(), RE2::UNANCHORED, found, wanted)) return std::nullopt;
  return std::string(found[wanted - 1].data(), found[wanted - 1].size());
}

}  // namespace watchpost::probes
