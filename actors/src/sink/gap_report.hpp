#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

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
// status), /health degraded, and one JSON line in the gap file (config.gap_file(), rotated as
// append_to_gap_file says). A gap file that cannot be written is logged and does not stop the
// sink.
void report_gap(const RuntimeContext& context, const GapReport& report);

// How large the gap file may grow and how many rotated copies are kept ([delivery]
// gap_file_max_bytes and gap_file_keep).
struct GapFileLimits {
  std::uint64_t max_bytes = 0;
  std::uint32_t keep = 1;
};

// Appends `line` (one JSON line, '\n' included) to `gap_file`, then, if the file has reached
// `limits.max_bytes`, rotates it: `<gap_file>.<keep-1>` becomes `.<keep>` (replacing the
// oldest), and so on down to the file itself becoming `.1`. The line is written before any
// rename, so a crash at any point leaves every report in some file; only reports older than
// `keep` rotations are dropped. Writers of one gap file (the consumers of all partitions, and
// any process given the same path) take turns under an flock on `<gap_file>.lock`. Errors are
// logged (event=gap_file_error); a rotation that fails leaves the file growing until the next
// one succeeds.
void append_to_gap_file(const std::filesystem::path& gap_file, const std::string& line,
                        const GapFileLimits& limits);

// `gap_file` and its rotated copies that exist (`<gap_file>.<n>`, any n), newest first.
std::vector<std::filesystem::path> gap_file_set(const std::filesystem::path& gap_file);

// Whether the gap file or one of its rotated copies already holds a line for this gap of this
// partition and subscription (written by an earlier run that stopped before it could confirm
// the report). Lines that do not parse are skipped; an unreadable file counts as not holding
// it.
bool gap_file_holds(const std::filesystem::path& gap_file, const GapReport& report);

}  // namespace danube::runtime
