#pragma once
// Internal: the parsed TOML behind ConfigSection views, and helpers shared by the config code.

#include <toml++/toml.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "danube/connect/config_section.hpp"

namespace danube::connect {

// A value set through an environment variable for a connector section key.
struct EnvOverride {
  std::string variable;
  std::string value;
};

class ConfigDocument {
 public:
  // Shared, never copied: toml++ drops source positions when a table is copied, and the
  // positions are what error messages need.
  std::shared_ptr<const toml::table> root = std::make_shared<const toml::table>();
  std::string source_name;  // the file path, or a stand-in such as "inline"
  // "mqtt.broker_host" -> the variable that set it.
  std::map<std::string, EnvOverride, std::less<>> overrides;

  // "/etc/c.toml:12", or empty when the region is unknown.
  std::string location(const toml::source_region& region) const;
};

struct ConfigSectionAccess {
  static ConfigSection root(std::shared_ptr<const ConfigDocument> document);
  static const ConfigDocument* document(const ConfigSection& section);
};

// toml::parse, after checking the nesting against kMaxTomlNestingDepth. Throws ConfigError
// located in `document` (its source_name names the text).
toml::table parse_toml(std::string_view toml_text, const ConfigDocument& document);

// "integer 5", "string \"abc\"", "table", ... for "(got ...)" in messages.
std::string describe_node(const toml::node& node);
// "[processing] batch_size", "connector_name", "[[mqtt.routes]][1] from".
std::string display_key(std::string_view section_path, std::string_view key);
// `text` quoted and cut to a readable length.
std::string quote_excerpt(std::string_view text);

}  // namespace danube::connect
