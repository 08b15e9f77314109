#pragma once

// Secrets (passwords, signing keys) come from the environment or from files, never from values
// that end up in logs or in `--print-config` output.
#include <optional>
#include <string>
#include <string_view>

#include "danube/connect/config_section.hpp"

namespace danube::connectors {

// The value of environment variable `name`, when it is set (even to "").
std::optional<std::string> environment_value(std::string_view name);

// The content of the file named by `[section] file_key`, without trailing newlines; nullopt when
// the key is absent. An unreadable or empty file is a ConfigError naming the key.
std::optional<std::string> secret_from_file(const connect::ConfigSection& section,
                                            std::string_view file_key);

// Constant-time comparison of two secrets (its time depends on the lengths only).
bool secrets_equal(std::string_view left, std::string_view right);

}  // namespace danube::connectors
