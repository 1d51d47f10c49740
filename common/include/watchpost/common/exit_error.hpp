#pragma once
// Errors that end a command before (or instead of) a verdict, each carrying the exit code of
// the README's table, so the one guard in the CLI maps them and no catch site picks a code.
#include <stdexcept>
#include <string>
#include <vector>

namespace watchpost {

// Exit codes (stable, README "Exit codes").
inline constexpr int exit_pass = 0;
inline constexpr int exit_failed = 1;         // a check, probe or threshold failed
inline constexpr int exit_usage = 2;          // bad usage or invalid input file
inline constexpr int exit_could_not_run = 3;  // e.g. target never ready, report not written

class exit_error : public std::runtime_error {
 public:
  exit_error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Bad usage, or an input file that is missing, unreadable or invalid: exit 2. Several errors
// found at once (a load plan's) are one line each in what().
class usage_error : public exit_error {
 public:
  explicit usage_error(const std::string& message) : exit_error(exit_usage, message) {}
  explicit usage_error(const std::vector<std::string>& lines) : exit_error(exit_usage, joined(lines)) {}

 private:
  static std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
    return out;
  }
};

// The command could not do its job (a port in use, a report not written): exit 3.
class cannot_run : public exit_error {
 public:
  explicit cannot_run(const std::string& message) : exit_error(exit_could_not_run, message) {}
};

}  // namespace watchpost
