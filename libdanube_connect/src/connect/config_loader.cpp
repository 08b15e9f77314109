#include "danube/connect/config_loader.hpp"

#include <algorithm>
#include <fstream>

#include "config_document.hpp"
#include "config_fields.hpp"

namespace danube::connect {

namespace {

// Config files are small; a bound keeps a wrong path (a log, a device) from eating memory.
constexpr std::uintmax_t kMaxConfigFileBytes = 4 * 1024 * 1024;

std::string location_of(const std::string& source_name, const toml::key& key,
                        const toml::node& node) {
  const auto& region = key.source().begin.line != 0 ? key.source() : node.source();
  if (region.begin.line == 0) return source_name;
  return source_name + ":" + std::to_string(region.begin.line);
}

void assign_field(ConnectorConfig& config, const config_fields::Field& field,
                  const toml::node& node, const std::string& location) {
  const config_fields::Where where{location, display_key(field.section, field.key)};
  field.assign(config, config_fields::from_node(field, node, where), where);
  config.origins[config_fields::origin_key(field.section, field.key)] = location;
}

}  // namespace

ConnectorConfig parse_connector_config(std::string_view toml_text, const std::string& source_name,
                                       const std::vector<std::string>& allowed_sections) {
  auto document = std::make_shared<ConfigDocument>();
  document->source_name = source_name;
  toml::table root = parse_toml(toml_text, *document);

  ConnectorConfig config;
  std::vector<std::string> sdk_keys;
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    const std::string location = location_of(source_name, key, node);
    if (const auto* field = config_fields::find("", name)) {
      assign_field(config, *field, node, location);
      sdk_keys.push_back(name);
      continue;
    }
    if (name == "schemas") {
      const auto* entries = node.as_array();
      if (!entries || !entries->is_array_of_tables()) {
        throw ConfigError(
            location, "schemas",
            "expected an array of tables [[schemas]] (got " + describe_node(node) + ")");
      }
      config.origins["schemas"] = location;
      for (std::size_t i = 0; i < entries->size(); ++i) {
        config.schemas.push_back(config_fields::parse_schema_entry(*(*entries)[i].as_table(), i,
                                                                   source_name, config.origins));
      }
      sdk_keys.push_back(name);
      continue;
    }
    if (config_fields::is_sdk_section(name)) {
      const auto* table = node.as_table();
      if (!table) {
        throw ConfigError(location, "[" + name + "]",
                          "expected a table (got " + describe_node(node) + ")");
      }
      // A table the connector shares with the SDK (the Rust webhook connector's `[auth]`): the
      // SDK takes its own keys and leaves the whole table to the connector, which names any
      // key neither knows.
      const bool shared = std::find(allowed_sections.begin(), allowed_sections.end(), name) !=
                          allowed_sections.end();
      config.origins[name] = location;
      for (const auto& [sub_key, sub_node] : *table) {
        const std::string sub_name(sub_key.str());
        const std::string sub_location = location_of(source_name, sub_key, sub_node);
        const auto* field = config_fields::find(name, sub_name);
        if (field) {
          assign_field(config, *field, sub_node, sub_location);
        } else if (config_fields::ignored_for_compatibility(name, sub_name)) {
          config.ignored_keys.push_back(sub_location + ": " + display_key(name, sub_name) +
                                        " has no effect (no such setting; kept so that the "
                                        "Rust SDK's sample configurations load unchanged)");
        } else if (!shared) {
          throw ConfigError(sub_location, display_key(name, sub_name),
                            "unknown key (known keys: " + config_fields::known_keys(name) + ")");
        }
      }
      if (!shared) sdk_keys.push_back(name);
      continue;
    }
    if (std::find(allowed_sections.begin(), allowed_sections.end(), name) !=
        allowed_sections.end()) {
      continue;
    }
    throw ConfigError(location, name,
                      "unknown key (a connector's own sections must be declared with "
                      "ConfigLoader::allow_section)");
  }
  // What remains are the connector's own tables; the root is moved, not copied, so their
  // source positions survive.
  for (const auto& name : sdk_keys)
    root.erase(name);
  document->root = std::make_shared<const toml::table>(std::move(root));
  config.custom_sections = ConfigSectionAccess::root(std::move(document));
  return config;
}

ConfigLoader::ConfigLoader() = default;

ConfigLoader& ConfigLoader::allow_section(std::string name) {
  if (name == "schemas" || config_fields::find("", name)) {
    throw ConfigError("", "[" + name + "]",
                      "is one of the SDK's own keys and cannot be a connector section");
  }
  if (std::find(allowed_sections_.begin(), allowed_sections_.end(), name) ==
      allowed_sections_.end()) {
    allowed_sections_.push_back(std::move(name));
  }
  return *this;
}

ConfigLoader& ConfigLoader::path_variable(std::string name) {
  path_variable_ = std::move(name);
  return *this;
}

ConfigLoader& ConfigLoader::environment(Environment environment) {
  environment_ = std::move(environment);
  return *this;
}

Environment ConfigLoader::current_environment() const {
  return environment_ ? *environment_ : Environment::process();
}

ConnectorConfig ConfigLoader::load() const {
  const Environment environment = current_environment();
  const auto path = environment.get(path_variable_);
  if (!path || path->empty()) {
    throw ConfigError("", path_variable_,
                      "environment variable must be set to the path of the TOML configuration "
                      "file");
  }
  return load_file(*path);
}

ConnectorConfig ConfigLoader::load_file(const std::filesystem::path& path) const {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) {
    throw ConfigError(path.string(), "", "cannot read the configuration file: " + error.message());
  }
  if (size > kMaxConfigFileBytes) {
    throw ConfigError(path.string(), "",
                      "the configuration file is too large (" + std::to_string(size) +
                          " bytes; at most " + std::to_string(kMaxConfigFileBytes) + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string(), "", "cannot open the configuration file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_string(text, path.string());
}

ConnectorConfig ConfigLoader::load_string(std::string_view toml_text,
                                          std::string source_name) const {
  ConnectorConfig config = parse_connector_config(toml_text, source_name, allowed_sections_);
  config.apply_env_overrides(current_environment(), allowed_sections_);
  for (const std::string key : {"danube_service_url", "connector_name"}) {
    if (config.origins.count(key) == 0) {
      throw ConfigError(
          source_name, key,
          "missing required key (set it in the file or with " +
              std::string(key == "connector_name" ? "CONNECTOR_NAME" : "DANUBE_SERVICE_URL") + ")");
    }
  }
  config.validate();
  return config;
}

}  // namespace danube::connect
