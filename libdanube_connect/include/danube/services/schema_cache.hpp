#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "danube/connect/error.hpp"
#include "danube/services/schema_codec.hpp"
#include "danube/services/schema_registry.hpp"

namespace danube::services {

using connect::ConnectorError;
using connect::ErrorKind;

class ConnectorMetrics;

// A registry schema with its compiled codec.
struct ResolvedSchema {
  RegisteredSchema schema;
  std::optional<SchemaType> type;            // nullopt: a type this SDK does not know
  std::shared_ptr<const SchemaCodec> codec;  // nullptr when type is nullopt
};

// The sink side's bounded (LRU) cache of schemas by (schema id, version), in front of the
// registry. Thread-safe. A registry failure is not cached.
class SchemaCache {
 public:
  SchemaCache(std::shared_ptr<SchemaRegistryClient> registry, std::size_t capacity = 256,
              ConnectorMetrics* metrics = nullptr);

  // Throws what the registry throws (ConnectorError kind danube), or ConnectorError
  // (invalid_data) when the registered definition does not compile.
  std::shared_ptr<const ResolvedSchema> resolve(std::uint64_t schema_id,
                                                std::optional<std::uint32_t> version);

  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }
  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  using Key = std::pair<std::uint64_t, std::uint32_t>;  // version 0 = "latest" lookups
  struct Entry {
    std::shared_ptr<const ResolvedSchema> value;
    std::list<Key>::iterator recency;
  };

  std::shared_ptr<SchemaRegistryClient> registry_;
  const std::size_t capacity_;
  ConnectorMetrics* metrics_;
  mutable std::mutex mutex_;
  std::map<Key, Entry> entries_;
  std::list<Key> recency_;  // front = most recently used
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace danube::services
