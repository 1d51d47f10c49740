// `watchpost load`'s peak RSS (issue 11): a bound at -c64 and the cost of one more connection,
// measured on the real binary against the test target. Sanitizers multiply memory, so their
// builds skip these checks.
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <vector>

#include "load_cli_support.hpp"

#ifndef WATCHPOST_SANITIZED

namespace {

// Peak RSS (KiB) of `watchpost load URL -t1 -cN` for 700 ms, read from /proc as it exits: ptrace
// stops it there (PTRACE_O_TRACEEXIT) with its memory still mapped. wait4's ru_maxrss would also
// count the forked copy of this test process, and polling would miss the run's last moments.
long load_peak_kib(unsigned connections) {
  std::vector<std::string> args{watchpost::testing::watchpost_binary_path(),
                                "load",
                                watchpost::testing::load_target().http_url("/"),
                                "-t1",
                                "-c" + std::to_string(connections),
                                "-d",
                                "700ms",
                                "-q"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(126);
    raise(SIGSTOP);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);  // stopped before the exec
  if (!WIFSTOPPED(status)) FAIL("ptrace refused: the child exited with " << WEXITSTATUS(status));
  ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
  ptrace(PTRACE_CONT, pid, nullptr, nullptr);
  long peak = 0;
  while (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
    const int event = status >> 16;
    if (event == PTRACE_EVENT_EXIT) peak = watchpost::testing::proc_status_kib(pid, "VmHWM");
    // Only signals are passed on, not the tracing stops.
    const long signal = event == 0 && WSTOPSIG(status) != SIGTRAP ? WSTOPSIG(status) : 0;
    ptrace(PTRACE_CONT, pid, nullptr, signal);
  }
  INFO("-c" << connections);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(peak > 0);  // the exit stop was seen
  return peak;
}

}  // namespace

TEST_CASE("load: peak RSS at -c64 is bounded and a connection costs about a kilobyte", "[load][rss]") {
  const long c1 = load_peak_kib(1), c64 = load_peak_kib(64), c1000 = load_peak_kib(1000);
  INFO("peak RSS KiB: -c1 " << c1 << ", -c64 " << c64 << ", -c1000 " << c1000);
  // Each connection is a small state machine reading into its worker's shared buffer:
  // measured 1.2-1.5 KiB each (object, socket and timer state); wrk holds 8 KiB of buffer each.
  CHECK(c1000 - c1 <= 999 * 2);
#ifdef NDEBUG
  // Measured 8.6-8.9 MiB (Release, Debian 12; 9.2 MiB with Boost, yaml-cpp and RE2 linked
  // shared), of which 4.9 MiB are shared libraries' pages mapped before main (libstdc++,
  // libcrypto, libc, libm, libssl, ld.so, libgcc_s): wrk's 5.0 MiB is out of reach while those
  // stay shared. The margin covers run-to-run variation (0.3 MiB seen).
  CHECK(c64 <= 9728);
#endif
}

#endif
