// Validation and names of ConsumerConfig and ProducerConfig.
#include <algorithm>
#include <cctype>

#include "danube/common/topic_name.hpp"
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/producer_config.hpp"

namespace danube::connect {

namespace {

void check_topic(std::string_view what, const std::string& topic) {
  std::string why;
  if (!parse_topic_name(topic, &why)) {
    throw ConnectorError::configuration(std::string(what) + " topic '" + topic +
                                        "' is not a valid Danube topic name: " + why);
  }
}

}  // namespace

void validate(const ConsumerConfig& config) {
  check_topic("consumer", config.topic);
  if (config.consumer_name.empty()) {
    throw ConnectorError::configuration("consumer for topic '" + config.topic +
                                        "': consumer_name must not be empty");
  }
  if (config.subscription.empty()) {
    throw ConnectorError::configuration("consumer for topic '" + config.topic +
                                        "': subscription must not be empty");
  }
  if (config.expected_schema_subject && config.expected_schema_subject->empty()) {
    throw ConnectorError::configuration("consumer for topic '" + config.topic +
                                        "': expected_schema_subject must not be empty when set");
  }
  if (!config.key_filters.empty() && config.subscription_type != SubscriptionType::key_shared) {
    throw ConnectorError::configuration("consumer for topic '" + config.topic +
                                        "': key_filters need subscription_type KeyShared");
  }
}

std::string default_producer_name(std::string_view connector_name, std::string_view topic) {
  std::string name(connector_name);
  name += '-';
  for (char c : topic)
    name += c == '/' ? '-' : c;
  return name;
}

void validate(const ProducerConfig& config) {
  check_topic("producer", config.topic);
  constexpr std::size_t kMaxPartitions = 10000;
  if (config.partitions > kMaxPartitions) {
    throw ConnectorError::configuration("producer for topic '" + config.topic +
                                        "': partitions must be <= 10000 (got " +
                                        std::to_string(config.partitions) + ")");
  }
  if (config.schema) {
    const auto& schema = *config.schema;
    if (schema.subject.empty()) {
      throw ConnectorError::configuration("producer for topic '" + config.topic +
                                          "': schema subject must not be empty");
    }
    if (schema_type_needs_definition(schema.schema_type) && schema.schema_file.empty()) {
      throw ConnectorError::configuration(
          "producer for topic '" + config.topic + "': schema type " +
          std::string(to_string(schema.schema_type)) + " needs a schema_file");
    }
  }
}

}  // namespace danube::connect
