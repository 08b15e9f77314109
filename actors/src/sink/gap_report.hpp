#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "../common/runtime_context.hpp"
#include "partition_continuity.hpp"

namespace danube::runtime {

struct GapReport {
  std::string topic;            // the logical topic of the subscription
  std::string partition_topic;  // where the offsets were skipped
  std::string subscription;
  OffsetGap gap;
  std::uint64_t detected_at = 0;  // the offset that arrived instead
};

// Makes a loss impossible to miss: an error log line, the lost counters (metric, runtime
// status), /health degraded, and one JSON line in the gap file (config.gap_file()). A gap file
// that cannot be written is logged and does not stop the sink.
void report_gap(const RuntimeContext& context, const GapReport& report);

// Whether the gap file already holds a line for this gap of this partition and subscription
// (written by an earlier run that stopped before it could confirm the report). Lines that do
// not parse are skipped; an unreadable file counts as not holding it.
bool gap_file_holds(const std::filesystem::path& gap_file, const GapReport& report);

}  // namespace danube::runtime
