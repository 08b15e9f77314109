#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "partition_continuity.hpp"

namespace danube::runtime {

// `<partition topic>.<subscription>.<digest>`, made safe as a file name: names the files a sink
// keeps per partition subscription (the digest tells apart names that map to the same text).
std::string partition_subscription_stem(const std::string& partition_topic,
                                        const std::string& subscription);

// The sink's offset store: one JSON file per partition subscription,
//   <state_dir>/<connector>.sink.<partition topic>.<subscription>.json
// holding a PartitionContinuity::State. Saves replace the file by rename, so a crash leaves the
// old or the new state, never a torn one. They do not fsync: the file must survive the sink's
// process, which the page cache guarantees; after a machine crash an older state can only make
// the sink report offsets as lost that it had processed, never hide a loss.
// One owner (the partition's consumer actor); not thread-safe.
class SinkOffsetFile {
 public:
  SinkOffsetFile(const std::filesystem::path& state_dir, const std::string& connector_name,
                 const std::string& partition_topic, const std::string& subscription);

  // nullopt when the file does not exist. A file that cannot be read or parsed is renamed to
  // `<file>.corrupt` and reported through `problem`; the sink then starts without history.
  std::optional<PartitionContinuity::State> load(std::string& problem) const;
  // Throws std::runtime_error naming the file.
  void save(const PartitionContinuity::State& state) const;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::string partition_topic_;
  std::string subscription_;
};

}  // namespace danube::runtime
