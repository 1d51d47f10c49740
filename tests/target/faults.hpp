#pragma once
// The byte sequences of the protocol-fault routes (/interim, /switching, /hostile/NAME; listed in
// routes.hpp): pure data, no I/O.
#include <optional>
#include <string>
#include <string_view>

#include "routes.hpp"

namespace watchpost::test_target {

// `count` HTTP/1.1 interim responses with status `code` (100..199), each with interim_link(code).
std::string interim_responses(unsigned code, unsigned count);

// The Link header value of an interim response: a preload for 103, empty for the others.
std::string_view interim_link(unsigned code);

// 101 Switching Protocols to a request that asked no upgrade, then the connection is held.
reply switching_reply();

// The raw reply of /hostile/NAME; nullopt for an unknown NAME and for "interim-then-final",
// which routes.cpp serves as an ordinary 503 prefaced by interim_responses().
std::optional<reply> hostile_reply(std::string_view name);

// "chunk-ext-endless, chunk-huge, ..." for the 404 of an unknown NAME.
std::string hostile_name_list();

}  // namespace watchpost::test_target
