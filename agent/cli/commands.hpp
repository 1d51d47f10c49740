#pragma once
// Subcommands of the watchpost executable. Each cli/<name>_command.cpp registers itself
// (these files are linked straight into the executable, so registration always runs).
// A command takes the arguments after its name and returns the process exit code.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace watchpost::cli {

using args = std::vector<std::string>;

inline constexpr int exit_pass = 0;
inline constexpr int exit_failed = 1;         // a check or threshold failed
inline constexpr int exit_usage = 2;          // bad usage or invalid file
inline constexpr int exit_could_not_run = 3;  // e.g. target never became ready

struct command_info {
  std::string_view name;
  int (*run)(const args&);
  std::string_view summary;
  int order;  // position in `watchpost --help`
};

// Returns true so a file can register with `const bool registered = register_command({...});`.
bool register_command(const command_info& info);
std::span<const command_info> registered_commands();

}  // namespace watchpost::cli
