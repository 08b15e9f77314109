#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "danube/connect/schema_config.hpp"

namespace danube::connect {

struct SourceRoute;

// One topic a source connector publishes to.
struct ProducerConfig {
  std::string topic;           // `/namespace/topic`
  std::size_t partitions = 0;  // 0 = not partitioned
  bool reliable_dispatch = false;
  // The schema to publish with. When unset, the `[[schemas]]` entry for this topic applies.
  std::optional<SchemaConfig> schema;

  ProducerConfig() = default;
  ProducerConfig(std::string topic_name, std::size_t partition_count, bool reliable)
      : topic(std::move(topic_name)), partitions(partition_count), reliable_dispatch(reliable) {}

  // The seed's route conversions; config -> route -> config is exact.
  SourceRoute route() const;
  static ProducerConfig from_route(const SourceRoute& route);

  friend bool operator==(const ProducerConfig&, const ProducerConfig&) = default;
};

// The seed's producer name: "<connector>-<topic with '/' replaced by '-'>", e.g.
// "mqtt-source--default-sensors" for /default/sensors.
std::string default_producer_name(std::string_view connector_name, std::string_view topic);

// Throws ConnectorError(configuration) naming the bad field: an invalid topic name, more than
// 10000 partitions, a schema without subject or with a missing definition file.
void validate(const ProducerConfig& config);

}  // namespace danube::connect
