#include "danube/services/schema_registrar.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "danube/connect/error.hpp"

namespace danube::services {

namespace {

// Schema definitions are small; a bound keeps a wrong path from eating memory.
constexpr std::uintmax_t kMaxSchemaFileBytes = 16 * 1024 * 1024;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : "; ") + item;
  return out;
}

}  // namespace

std::string read_schema_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) {
    throw ConnectorError::configuration("cannot read schema file " + path.string() + ": " +
                                        error.message());
  }
  if (size > kMaxSchemaFileBytes) {
    throw ConnectorError::configuration("schema file " + path.string() + " is too large (" +
                                        std::to_string(size) + " bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConnectorError::configuration("cannot open schema file " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ProducerSchema SchemaRegistrar::register_schema(const std::string& topic,
                                                const SchemaConfig& config) {
  const std::string& subject = config.subject;
  const std::string context = "schema for topic " + topic + " (subject '" + subject + "')";
  ProducerSchema result;
  result.topic = topic;
  result.config = config;

  std::string file_definition;
  if (!config.schema_file.empty()) {
    file_definition = read_schema_file(config.schema_file);
  } else if (schema_type_needs_definition(config.schema_type)) {
    throw ConnectorError::configuration(context + ": schema type " +
                                        std::string(to_string(config.schema_type)) +
                                        " needs a schema_file");
  }
  if (schema_type_needs_definition(config.schema_type)) {
    // A broken file is reported before anything is registered.
    try {
      (void)SchemaCodec::create(config.schema_type, file_definition, config.message_type);
    } catch (const ConnectorError& e) {
      throw ConnectorError::configuration(context + ": " + config.schema_file.string() + ": " +
                                          e.message());
    }
  }

  std::optional<RegisteredSchema> latest;
  try {
    latest = registry_.get_latest_schema(subject);
  } catch (const ConnectorError& e) {
    if (!is_not_found(e)) throw;
  }

  if (latest) {
    const auto registered_type = parse_schema_type(latest->schema_type);
    if (registered_type != config.schema_type) {
      throw ConnectorError::configuration(context + ": the subject is registered with type '" +
                                          latest->schema_type + "' but the configuration says '" +
                                          std::string(to_string(config.schema_type)) + "'");
    }
  }

  // Registers the schema file's definition and reads back what the registry made of it.
  auto register_file = [&](std::string_view event) {
    const auto registration =
        registry_.register_schema(subject, config.schema_type, file_definition);
    latest = registry_.get_schema(registration.schema_id, registration.version);
    result.registered = registration.is_new_version;
    spdlog::info("event={} subject={} schema_id={} version={} topic={}", event, subject,
                 registration.schema_id, registration.version, topic);
  };
  if (config.auto_register) {
    if (!latest) {
      register_file("schema_registered");
    } else if (latest->definition != file_definition) {
      const auto compatibility =
          registry_.check_compatibility(subject, config.schema_type, file_definition);
      if (!compatibility.compatible) {
        throw ConnectorError::configuration(
            context + ": the changed schema file " + config.schema_file.string() +
            " is not compatible with version " + std::to_string(latest->version) + ": " +
            (compatibility.errors.empty() ? std::string("no details")
                                          : join(compatibility.errors)));
      }
      register_file("schema_updated");
    } else {
      spdlog::info("event=schema_unchanged subject={} schema_id={} version={} topic={}", subject,
                   latest->schema_id, latest->version, topic);
    }
  } else {
    if (!latest) {
      throw ConnectorError::configuration(context +
                                          ": the subject is not registered and "
                                          "auto_register is false");
    }
    if (!config.schema_file.empty() && latest->definition != file_definition) {
      spdlog::warn(
          "event=schema_file_differs subject={} version={} file={} note=\"auto_register is "
          "false; publishing with the registered version\"",
          subject, latest->version, config.schema_file.string());
    }
  }

  RegisteredSchema used = *latest;
  const auto& strategy = config.version_strategy;
  if (strategy.kind == VersionStrategy::Kind::pinned) {
    const auto versions = registry_.list_versions(subject);
    const auto it = std::find_if(versions.begin(), versions.end(), [&](const SchemaVersionInfo& v) {
      return v.version == strategy.version;
    });
    if (it == versions.end()) {
      throw ConnectorError::configuration(
          context + ": pinned version " + std::to_string(strategy.version) +
          " does not exist (latest is " + std::to_string(latest->version) + ")");
    }
    used = registry_.get_schema(it->schema_id, strategy.version);
  } else if (strategy.kind == VersionStrategy::Kind::minimum &&
             latest->version < strategy.version) {
    throw ConnectorError::configuration(context + ": the latest version " +
                                        std::to_string(latest->version) + " is below the minimum " +
                                        std::to_string(strategy.version));
  }

  result.schema_id = used.schema_id;
  result.version = used.version;
  result.definition = used.definition;
  try {
    result.codec = SchemaCodec::create(config.schema_type, used.definition, config.message_type);
  } catch (const ConnectorError& e) {
    throw ConnectorError::configuration(context + ": registered version " +
                                        std::to_string(used.version) + ": " + e.message());
  }
  return result;
}

std::map<std::string, ProducerSchema> SchemaRegistrar::register_all(
    const std::vector<SchemaMapping>& mappings) {
  std::map<std::string, ProducerSchema> schemas;
  for (const auto& mapping : mappings) {
    schemas.insert_or_assign(mapping.topic, register_schema(mapping.topic, mapping.schema));
  }
  return schemas;
}

std::vector<SchemaMapping> producer_schema_mappings(const std::vector<SchemaMapping>& configured,
                                                    const std::vector<ProducerConfig>& producers) {
  std::vector<SchemaMapping> mappings;
  for (const auto& producer : producers) {
    if (producer.schema) mappings.push_back({producer.topic, *producer.schema});
  }
  for (const auto& mapping : configured) {
    const bool overridden =
        std::any_of(mappings.begin(), mappings.end(),
                    [&](const SchemaMapping& own) { return own.topic == mapping.topic; });
    if (!overridden) mappings.push_back(mapping);
  }
  return mappings;
}

}  // namespace danube::services
