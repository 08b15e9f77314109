#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "danube/common/message_id.hpp"
#include "danube/common/schema.hpp"

namespace danube::connect {

// What routing decisions look at: topic, routing key, partition and attributes. A view into a
// record: valid while any copy of that record lives.
class RoutingContext {
 public:
  RoutingContext(std::string_view topic, std::optional<std::string_view> key,
                 std::optional<std::size_t> partition, const Attributes& attributes)
      : topic_(topic), key_(key), partition_(partition), attributes_(&attributes) {}

  // The logical topic (`/ns/orders`, also for a partitioned topic).
  std::string_view topic() const { return topic_; }
  // The routing key, when the record has one.
  std::optional<std::string_view> key() const { return key_; }
  // The partition index of a partitioned topic (sink records); nullopt otherwise.
  std::optional<std::size_t> partition() const { return partition_; }
  const Attributes& attributes() const { return *attributes_; }

 private:
  std::string_view topic_;
  std::optional<std::string_view> key_;
  std::optional<std::size_t> partition_;
  const Attributes* attributes_;
};

// RoutingContext plus what a sink record knows about its origin. Source records have none of
// the extra fields. Same lifetime rule as RoutingContext.
class RecordContext {
 public:
  RecordContext(RoutingContext routing, std::optional<std::uint64_t> publish_time_us,
                std::optional<std::string_view> producer_name, const SchemaInfo* schema)
      : routing_(routing),
        publish_time_us_(publish_time_us),
        producer_name_(producer_name),
        schema_(schema) {}

  RoutingContext routing() const { return routing_; }
  std::string_view topic() const { return routing_.topic(); }
  std::optional<std::string_view> key() const { return routing_.key(); }
  std::optional<std::size_t> partition() const { return routing_.partition(); }
  const Attributes& attributes() const { return routing_.attributes(); }
  // Microseconds since the Unix epoch, as the broker stamped it.
  std::optional<std::uint64_t> publish_time() const { return publish_time_us_; }
  std::optional<std::string_view> producer_name() const { return producer_name_; }
  // The schema the record was published with; nullptr when none.
  const SchemaInfo* schema() const { return schema_; }

 private:
  RoutingContext routing_;
  std::optional<std::uint64_t> publish_time_us_;
  std::optional<std::string_view> producer_name_;
  const SchemaInfo* schema_;
};

}  // namespace danube::connect
