// argv -> subcommand. Everything else lives in the module libraries.
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace watchpost::cli {

namespace {
std::vector<command_info>& registry() {
  static std::vector<command_info> commands;
  return commands;
}
}  // namespace

bool register_command(const command_info& info) {
  auto& commands = registry();
  commands.push_back(info);
  std::sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  return true;
}

std::span<const command_info> registered_commands() { return registry(); }

}  // namespace watchpost::cli

namespace {

int usage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: watchpost <command> [options]   (watchpost <command> --help for its options)\n\ncommands:\n");
  for (const auto& c : watchpost::cli::registered_commands())
    std::fprintf(out, "  %-13.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  std::fprintf(
      out, "\nexit codes: 0 pass, 1 check/threshold failed, 2 bad usage or invalid file, 3 could not run\n");
  return out == stdout ? watchpost::exit_pass : watchpost::exit_usage;
}

// The one place an error becomes an exit code: typed errors carry theirs (usage_error and
// config_error 2, cannot_run 3); anything else escaped the command's setup, so it could not run.
int guarded(const watchpost::cli::command_info& command, const watchpost::cli::args& argv) {
  const auto fail = [&](std::string_view message, int code) {
    // One line per error; a usage_error may hold several found at once.
    for (std::size_t start = 0; start <= message.size();) {
      const std::size_t end = std::min(message.find('\n', start), message.size());
      std::fprintf(stderr, "watchpost %.*s: %.*s\n", static_cast<int>(command.name.size()),
                   command.name.data(), static_cast<int>(end - start), message.data() + start);
      start = end + 1;
    }
    return code;
  };
  try {
    return command.run(argv);
  } catch (const watchpost::exit_error& e) {
    return fail(e.what(), e.code());
  } catch (const std::exception& e) {
    return fail(e.what(), watchpost::exit_could_not_run);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") return usage(stdout);
  if (name == "--version") {
    std::printf("watchpost 0.1.0\n");
    return 0;
  }
  for (const auto& c : watchpost::cli::registered_commands())
    if (c.name == name) return guarded(c, watchpost::cli::args(argv + 2, argv + argc));
  std::fprintf(stderr, "watchpost: unknown command '%s' (try 'watchpost --help')\n", argv[1]);
  return watchpost::exit_usage;
}
