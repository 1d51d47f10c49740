// argv -> subcommand. Everything else lives in the module libraries.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.hpp"

namespace {

struct command {
  std::string_view name;
  int (*run)(const watchpost::cli::args&);
  std::string_view summary;
};

constexpr command commands[] = {
    {"probe", watchpost::cli::probe_command, "probe URL: one request, phase timings, failure kind"},
};

int usage(std::FILE* out) {
  std::fprintf(out, "usage: watchpost <command> [options]\n\ncommands:\n");
  for (const auto& c : commands) std::fprintf(out, "  %-13s %.*s\n", std::string(c.name).c_str(),
                                              static_cast<int>(c.summary.size()), c.summary.data());
  std::fprintf(out, "\nexit codes: 0 pass, 1 check/threshold failed, 2 bad usage or invalid file, 3 could not run\n");
  return out == stdout ? watchpost::cli::exit_pass : watchpost::cli::exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") return usage(stdout);
  if (name == "--version") {
    std::printf("watchpost 0.1.0\n");
    return 0;
  }
  for (const auto& c : commands) {
    if (c.name == name) return c.run(watchpost::cli::args(argv + 2, argv + argc));
  }
  std::fprintf(stderr, "watchpost: unknown command '%s' (try 'watchpost --help')\n", argv[1]);
  return watchpost::cli::exit_usage;
}
