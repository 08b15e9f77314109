#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace danube::connect {

// A source's position in its external system: a partition name of the connector's choosing
// (an MQTT topic, a table, a file), a value that grows as records are read, and optional
// opaque metadata. The runtime hands committed offsets back to `commit()` and, after a
// restart, to `initialize()`.
struct Offset {
  std::string partition;
  std::uint64_t value = 0;
  std::optional<std::string> metadata;

  Offset() = default;
  Offset(std::string partition_name, std::uint64_t offset_value,
         std::optional<std::string> offset_metadata = std::nullopt)
      : partition(std::move(partition_name)),
        value(offset_value),
        metadata(std::move(offset_metadata)) {}

  friend bool operator==(const Offset&, const Offset&) = default;
};

}  // namespace danube::connect
