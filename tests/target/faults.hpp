#pragma once
// The byte sequences of the protocol-fault routes (/interim, /switching, /hostile/NAME; listed in
// routes.hpp): pure data, no I/O.
#include <optional>
#include <string>
#include <string_view>

#include "routes.hpp"

namespace watchpost::test_target {

// `count` interim responses with status `code` (100..199); a 103 carries a Link preload header.
std::string interim_responses(unsigned code, unsigned count);

// 101 Switching Protocols to a request that asked no upgrade, then the connection is held.
reply switching_reply();

// The raw reply of /hostile/NAME; nullopt for an unknown NAME and for "interim-then-final",
// which routes.cpp serves as an ordinary 503 prefaced by interim_responses().
std::optional<reply> hostile_reply(std::string_view name);

// "chunk-ext-endless, chunk-huge, ..." for the 404 of an unknown NAME.
std::string hostile_name_list();

}  // namespace watchpost::test_target
