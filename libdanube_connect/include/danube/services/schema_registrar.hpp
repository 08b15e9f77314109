#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "danube/connect/config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/connect/schema_config.hpp"
#include "danube/services/schema_codec.hpp"
#include "danube/services/schema_registry.hpp"

namespace danube::services {

using connect::ConnectorConfig;
using connect::ConnectorError;
using connect::ProducerConfig;
using connect::SchemaConfig;
using connect::SchemaMapping;

// The schema a source publishes with on one topic, after registration.
struct ProducerSchema {
  std::string topic;
  SchemaConfig config;
  std::uint64_t schema_id = 0;
  std::uint32_t version = 0;  // the version published with (pinned, or the latest)
  std::string definition;     // the definition of that version
  bool registered = false;    // this start registered a new version
  std::shared_ptr<const SchemaCodec> codec;
};

// Registers the `[[schemas]]` of a source at start:
// - auto_register: when the subject is missing, register the file; when the file differs
//   from the latest registered definition (the file changed), check compatibility first and
//   register it as a new version (an incompatible change is a configuration error listing the
//   registry's reasons); when it is the same, use the latest.
// - no auto_register: the subject must exist; a changed file is only logged as a warning.
// - version_strategy pinned N: version N must exist and is used; minimum N: the latest
//   version must be >= N.
// Files are read relative to the working directory. Errors: ConnectorError(configuration) for
// unreadable files, bad definitions and the cases above; registry failures propagate (danube).
class SchemaRegistrar {
 public:
  explicit SchemaRegistrar(SchemaRegistryClient& registry) : registry_(registry) {}

  ProducerSchema register_schema(const std::string& topic, const SchemaConfig& config);
  // Keyed by topic.
  std::map<std::string, ProducerSchema> register_all(const std::vector<SchemaMapping>& mappings);

 private:
  SchemaRegistryClient& registry_;
};

// The schemas a source must register: each producer's own ProducerConfig::schema, then the
// `[[schemas]]` entries for the other topics (a producer's own schema wins over an entry for
// the same topic).
std::vector<SchemaMapping> producer_schema_mappings(const std::vector<SchemaMapping>& configured,
                                                    const std::vector<ProducerConfig>& producers);

// The contents of a schema file; throws ConnectorError(configuration) naming the file.
std::string read_schema_file(const std::filesystem::path& path);

}  // namespace danube::services
