#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "danube/connect/config.hpp"
#include "danube/connect/environment.hpp"

namespace danube::connect {

// Loads a ConnectorConfig the way a connector process does:
//   1. parse the TOML file (path from CONNECTOR_CONFIG_PATH, or given),
//   2. apply environment overrides,
//   3. validate.
// Unknown top-level keys are errors unless declared with allow_section().
//
//   auto config = ConfigLoader().allow_section("mqtt").load();
//   auto mqtt = config.section("mqtt");
class ConfigLoader {
 public:
  ConfigLoader();

  // Declares a connector's own top-level table or array of tables. An SDK table (`auth`) may
  // be declared too: it is then shared, the SDK reads its own keys from it and the connector
  // sees the whole table (and names the keys neither knows). Throws ConfigError for the SDK's
  // top-level keys and `schemas`.
  ConfigLoader& allow_section(std::string name);
  // The variable holding the config file path (default CONNECTOR_CONFIG_PATH).
  ConfigLoader& path_variable(std::string name);
  // The environment to read (default: the process environment at load time).
  ConfigLoader& environment(Environment environment);

  // From the file named by the path variable. Throws ConfigError when the variable is unset.
  ConnectorConfig load() const;
  ConnectorConfig load_file(const std::filesystem::path& path) const;
  // `source_name` stands in for a file name in messages.
  ConnectorConfig load_string(std::string_view toml_text, std::string source_name) const;

  const std::vector<std::string>& allowed_sections() const { return allowed_sections_; }

 private:
  Environment current_environment() const;

  std::vector<std::string> allowed_sections_;
  std::string path_variable_ = "CONNECTOR_CONFIG_PATH";
  std::optional<Environment> environment_;
};

// Parses TOML text into a ConnectorConfig without environment overrides or validation. The
// building block of the loaders; throws ConfigError for syntax errors, unknown keys and wrong
// types.
ConnectorConfig parse_connector_config(std::string_view toml_text, const std::string& source_name,
                                       const std::vector<std::string>& allowed_sections);

}  // namespace danube::connect
