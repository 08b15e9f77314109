#pragma once

// How a sink connector's `[[<table>.routes]]` entry names its subscription, the same way in
// every sink: `from` (the Danube topic), `subscription` (default: the connector's name),
// `consumer_name` (default: "<connector>-<route index>"), `subscription_type` (default
// Exclusive) and `expected_schema_subject`.
#include <cstddef>
#include <string>

#include "danube/connect/config_section.hpp"
#include "danube/connect/consumer_config.hpp"

namespace danube::connectors {

// Throws ConfigError naming the key for a bad topic, an empty name or an unknown type.
connect::ConsumerConfig read_route_consumer(const connect::ConfigSection& route,
                                            const std::string& connector_name, std::size_t index);

}  // namespace danube::connectors
