#pragma once
// Small pieces every subcommand shares: option parsing with one-line errors.
#include <boost/program_options.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "watchpost/agent/shard.hpp"
#include "watchpost/common/duration.hpp"
#include "watchpost/probes/http_types.hpp"

namespace watchpost::cli {

nanoseconds duration_option(const std::string& flag, const std::string& text);
probes::url url_argument(const std::string& text);
// --push-gateway URL, checked before any traffic is sent.
probes::url push_gateway_option(const std::string& text);
// --dns-server IP[:PORT][,IP[:PORT]...], checked before any traffic is sent.
std::string dns_servers_option(const std::string& text);
inline constexpr const char* dns_server_help =
    "ask these DNS servers, IP[:PORT][,IP[:PORT]] ([::1]:53 for IPv6), instead of /etc/resolv.conf";
// --shard i/N or auto/N of agent and check-config; throws usage_error naming the flag.
agent::shard_spec shard_option(const std::string& text);
// --http2 and --http1.1, added to a command's options and read back: nullopt when neither was
// given; throws usage_error when both were.
void add_http_version_options(boost::program_options::options_description& options);
std::optional<probes::http_version> http_version_option(const boost::program_options::variables_map& vm);
// "Name: value" as given to -H.
probes::header_field header_option(const std::string& text);

// Every value of a repeatable option (empty when absent).
std::vector<std::string> strings(const boost::program_options::variables_map& vm, const char* name);
// --var NAME=VALUE items as a map; throws usage_error on an item without a name.
std::map<std::string, std::string> var_options(const std::vector<std::string>& items);

// Parses argv into vm; throws usage_error with program_options' message on failure.
// Returns false when --help was given: the options have then been printed to stdout.
bool parse_options(const args& argv, const boost::program_options::options_description& options,
                   const boost::program_options::positional_options_description& positional,
                   boost::program_options::variables_map& vm);

}  // namespace watchpost::cli
