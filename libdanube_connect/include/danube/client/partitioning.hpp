#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace danube::client {

// FNV-1a 64-bit, the hash Danube's clients use to map a message key to a partition.
constexpr std::uint64_t fnv1a_64(std::string_view data) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : data) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The partition a keyed message goes to, identical to the Rust client's choice.
constexpr std::size_t partition_for_key(std::string_view key, std::size_t partitions) {
  return partitions == 0 ? 0 : static_cast<std::size_t>(fnv1a_64(key) % partitions);
}

}  // namespace danube::client
