#pragma once
// Subcommands of the watchpost executable. Each takes the arguments after its name
// and returns the process exit code: 0 pass, 1 a check or threshold failed,
// 2 bad usage or invalid file, 3 could not run.
#include <string>
#include <vector>

namespace watchpost::cli {

using args = std::vector<std::string>;

inline constexpr int exit_pass = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_could_not_run = 3;

int probe_command(const args& argv);

}  // namespace watchpost::cli
