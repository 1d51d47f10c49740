// The status server's share of the process's descriptors.
#include <sys/resource.h>

#include <algorithm>

#include "server.hpp"

namespace watchpost::agent::detail {

std::uint64_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;  // an unlimited hard limit may refuse
  }
  return limit.rlim_cur;
}

int client_cap(int configured, std::uint64_t descriptor_limit, std::size_t targets) {
  const std::uint64_t reserve = 2 * static_cast<std::uint64_t>(targets) + 64;
  const std::uint64_t spare = descriptor_limit > reserve ? descriptor_limit - reserve : 0;
  return static_cast<int>(std::max<std::uint64_t>(
      1, std::min<std::uint64_t>(spare, static_cast<std::uint64_t>(std::max(configured, 1)))));
}

}  // namespace watchpost::agent::detail
