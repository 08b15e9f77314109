#include "danube/services/schema_cache.hpp"

#include "danube/connect/error.hpp"
#include "danube/services/metrics.hpp"

namespace danube::services {

SchemaCache::SchemaCache(std::shared_ptr<SchemaRegistryClient> registry, std::size_t capacity,
                         ConnectorMetrics* metrics)
    : registry_(std::move(registry)), capacity_(capacity == 0 ? 1 : capacity), metrics_(metrics) {}

std::shared_ptr<const ResolvedSchema> SchemaCache::resolve(std::uint64_t schema_id,
                                                           std::optional<std::uint32_t> version) {
  const Key key{schema_id, version.value_or(0)};
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it != entries_.end()) {
      recency_.splice(recency_.begin(), recency_, it->second.recency);
      ++hits_;
      if (metrics_) metrics_->record_schema_cache_hit();
      return it->second.value;
    }
    ++misses_;
  }
  if (metrics_) metrics_->record_schema_cache_miss();

  // Fetched without holding the lock: a slow registry must not stall hits on other schemas.
  auto resolved = std::make_shared<ResolvedSchema>();
  resolved->schema = registry_->get_schema(schema_id, version);
  resolved->type = parse_schema_type(resolved->schema.schema_type);
  if (resolved->type) {
    try {
      resolved->codec = SchemaCodec::create(*resolved->type, resolved->schema.definition);
    } catch (const ConnectorError& e) {
      throw ConnectorError::invalid_data("schema id " + std::to_string(schema_id) + " (subject '" +
                                         resolved->schema.subject +
                                         "') does not compile: " + e.message());
    }
  }

  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end()) return it->second.value;
  recency_.push_front(key);
  entries_.emplace(key, Entry{resolved, recency_.begin()});
  while (entries_.size() > capacity_) {
    entries_.erase(recency_.back());
    recency_.pop_back();
  }
  return resolved;
}

std::size_t SchemaCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t SchemaCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::uint64_t SchemaCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace danube::services
