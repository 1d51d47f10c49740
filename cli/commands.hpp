#pragma once
// Subcommands of the watchpost executable. Each cli/<name>_command.cpp registers itself
// (these files are linked straight into the executable, so registration always runs).
// A command takes the arguments after its name and returns the process exit code.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "watchpost/common/exit_error.hpp"

namespace watchpost::cli {

using args = std::vector<std::string>;

// Exit codes (exit_pass ... exit_could_not_run) and the errors that carry them: a command returns
// 0 or 1 for its verdict and throws usage_error (2) or cannot_run (3); main() maps the throw.

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
