#pragma once
// "what: strerror(error)", the one shape of a failed system call's message (outbox files, io_uring set-up).
#include <cstring>
#include <string>
#include <string_view>

namespace watchpost {

inline std::string errno_text(std::string_view what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

}  // namespace watchpost
