#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

namespace danube::testkit::internal {

// A hash map split into shards, each with its own reader/writer lock, so that lookups on the
// publish/deliver path (producer id -> topic, topic name -> topic) never serialise on one lock.
template <class Key, class Value, std::size_t kShards = 16>
class ShardedMap {
 public:
  std::optional<Value> find(const Key& key) const {
    const Shard& s = shard(key);
    std::shared_lock lock(s.mutex);
    const auto it = s.map.find(key);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
  }

  bool contains(const Key& key) const { return find(key).has_value(); }

  // Inserts when absent; returns whether it inserted.
  bool insert(const Key& key, Value value) {
    Shard& s = shard(key);
    std::unique_lock lock(s.mutex);
    return s.map.emplace(key, std::move(value)).second;
  }

  bool erase(const Key& key) {
    Shard& s = shard(key);
    std::unique_lock lock(s.mutex);
    return s.map.erase(key) > 0;
  }

  // Calls f(key, value) for every entry, one shard at a time (no global snapshot).
  template <class F>
  void for_each(F&& f) const {
    for (const Shard& s : shards_) {
      std::shared_lock lock(s.mutex);
      for (const auto& [key, value] : s.map)
        f(key, value);
    }
  }

  void clear() {
    for (Shard& s : shards_) {
      std::unique_lock lock(s.mutex);
      s.map.clear();
    }
  }

 private:
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<Key, Value> map;
  };
  Shard& shard(const Key& key) { return shards_[std::hash<Key>{}(key) % kShards]; }
  const Shard& shard(const Key& key) const { return shards_[std::hash<Key>{}(key) % kShards]; }

  std::array<Shard, kShards> shards_;
};

}  // namespace danube::testkit::internal
