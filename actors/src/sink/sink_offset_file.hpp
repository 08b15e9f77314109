#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "danube/common/files.hpp"
#include "partition_continuity.hpp"

namespace danube::runtime {

// `<partition topic>.<subscription>.<digest>`, made safe as a file name: names the files a sink
// keeps per partition subscription (the digest tells apart names that map to the same text).
std::string partition_subscription_stem(const std::string& partition_topic,
                                        const std::string& subscription);

// The sink's offset store, per partition subscription: a snapshot and a journal,
//   <state_dir>/<connector>.sink.<partition topic>.<subscription>.json
//   <state_dir>/<connector>.sink.<partition topic>.<subscription>.journal
// The snapshot is a whole PartitionContinuity::State in JSON, replaced by rename, so a crash
// leaves the old or the new one, never a torn one. A sink saves before every ack group, often
// for a record or two: rewriting the snapshot each time (512 identities, a new file and a
// rename) was most of a sink's instructions at small batches. So a save that adds few
// identities appends one checksummed line instead: the state's small fields and the identities
// added since the previous save. Lines carry the snapshot's journal generation; a new snapshot
// takes a new generation and empties the journal, so lines it already holds are never applied
// twice, even if the sink stops between the two. A torn last line fails its checksum and ends
// the replay. Nothing is fsynced: the files must survive the sink's process, which the page
// cache guarantees; after a machine crash an older state can only make the sink report offsets
// as lost that it had processed, never hide a loss.
// One owner (the partition's consumer actor); not thread-safe.
class SinkOffsetFile {
 public:
  SinkOffsetFile(const std::filesystem::path& state_dir, const std::string& connector_name,
                 const std::string& partition_topic, const std::string& subscription);

  // nullopt when the file does not exist. A snapshot that cannot be read or parsed is renamed
  // to `<file>.corrupt` and reported through `problem`; the sink then starts without history.
  std::optional<PartitionContinuity::State> load(std::string& problem) const;
  // Saves `state`. With `recorded` (PartitionContinuity::recorded()), the identities added since
  // the previous save, it appends a journal line when that is enough. Throws std::runtime_error
  // naming the file; the next save then writes a snapshot.
  void save(const PartitionContinuity::State& state,
            const PartitionContinuity::RecordedIdentities* recorded = nullptr);
  // Deletes both files (tracking stopped).
  void remove();

  const std::filesystem::path& file() const { return file_; }
  const std::filesystem::path& journal_file() const { return journal_file_; }

 private:
  void save_snapshot(const PartitionContinuity::State& state);
  bool journal_is_ours() const;
  void append_journal_line(const PartitionContinuity::State& state,
                           const PartitionContinuity::RecordedIdentities& recorded);

  std::filesystem::path file_;
  std::filesystem::path journal_file_;
  std::string partition_topic_;
  std::string subscription_;
  files::FileHandle journal_;     // open for appending once a snapshot of this run exists
  std::uint64_t generation_ = 0;  // of the last snapshot this instance wrote
  std::uint64_t journal_bytes_ = 0;
  std::string line_;  // reused: a save allocates nothing once warm
};

}  // namespace danube::runtime
