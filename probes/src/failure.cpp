#include "watchpost/probes/failure.hpp"

namespace watchpost::probes {

std::string_view to_string(failure_kind kind) {
  switch (kind) {
    case failure_kind::none:
      return "ok";
    case failure_kind::dns:
      return "dns";
    case failure_kind::connect:
      return "connect";
    case failure_kind::connect_timeout:
      return "connect_timeout";
    case failure_kind::tls_handshake:
      return "tls_handshake";
    case failure_kind::tls_verify:
      return "tls_verify";
    case failure_kind::timeout:
      return "timeout";
    case failure_kind::reset:
      return "reset";
    case failure_kind::protocol:
      return "protocol";
    case failure_kind::body_too_large:
      return "body_too_large";
    case failure_kind::status:
      return "status";
    case failure_kind::assertion:
      return "assertion";
  }
  return "unknown";
}

std::string_view metric_result(failure_kind kind) {
  switch (kind) {
    case failure_kind::none:
      return "ok";
    case failure_kind::dns:
      return "dns";
    case failure_kind::connect:
    case failure_kind::reset:
      return "connect";
    case failure_kind::connect_timeout:
    case failure_kind::timeout:
      return "timeout";
    case failure_kind::tls_handshake:
    case failure_kind::tls_verify:
      return "tls";
    case failure_kind::protocol:
    case failure_kind::body_too_large:
      return "protocol";
    case failure_kind::status:
      return "status";
    case failure_kind::assertion:
      return "assertion";
  }
  return "protocol";
}

bool parse_failure_kind(std::string_view name, failure_kind& out) {
  if (name == "ok") {
    out = failure_kind::none;
    return true;
  }
  for (auto kind : all_failure_kinds) {
    if (to_string(kind) == name) {
      out = kind;
      return true;
    }
  }
  return false;
}

}  // namespace watchpost::probes
