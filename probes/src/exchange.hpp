#pragma once
// What the HTTP/1.1 and HTTP/2 paths of the probe client share: how an exchange on an open
// connection ends, the limits on a response's shape, and the reading of transport errors.
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string>

#include "watchpost/probes/http_types.hpp"

namespace watchpost::probes::detail {

// How one write-and-read on an open connection ended.
enum class exchange_outcome {
  answered,     // r holds a response or a failure
  idle_closed,  // a reused connection was closed (or went away) before the request was processed
};

// A server may send a few 1xx (100 Continue, 102 Processing, 103 Early Hints) before the final
// response; more than this is a server stuck in a loop, not a slow answer.
inline constexpr int max_interim_responses = 10;
// One read from the socket. The HTTP/1.1 read buffer holds at most the header limit plus one read.
inline constexpr std::size_t read_block = 16 * 1024;

inline void fail(result& r, failure_kind kind, std::string message) {
  r.failure = kind;
  r.error = std::move(message);
}

// One line for an error code; OpenSSL's reason for TLS errors.
std::string describe(const boost::system::error_code& ec);
// The peer closed or reset the connection (plain, TLS, or mid-message).
bool is_closed_by_peer(const boost::system::error_code& ec);
// A request write that failed: idle_closed on a reused connection the server had closed, else
// r fails as timeout or reset.
exchange_outcome write_failed(const boost::system::error_code& ec, result& r);

}  // namespace watchpost::probes::detail
