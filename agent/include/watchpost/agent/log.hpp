#pragma once
// Structured logs, one line each on stderr: `ts level msg key=value ...` or one JSON object.
// Callers pass only secret-free values (never header values, secrets or webhook bodies).
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace watchpost::agent {

enum class log_format { text, json };
enum class log_level { info, warn, error };

// Chosen once at startup, before any thread logs.
void set_log_format(log_format format);
void log_event(log_level level, std::string_view message,
               std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

}  // namespace watchpost::agent
