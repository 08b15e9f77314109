#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "danube/DanubeApi.pb.h"
#include "danube/testkit/embedded_broker.hpp"
#include "storage_files.hpp"

namespace danube::testkit::internal {

// The log of one reliable topic. Entries are addressed by position, which starts at 0 and grows
// by one per message for the life of the data directory. The offset stamped into a message is
// its position minus the position where the current offset sequence began: the same number,
// except that a log opened with `restart_offsets` (a cluster-like restart) begins a new sequence
// at offset 0, as Danube 0.15.1's WAL does in cluster mode. Subscriptions work in positions, so
// old and new entries stay distinct even where their offsets collide.
//
// In memory it keeps only what some subscription may still need (the owner trims below the
// lowest position any subscription may still read; new subscriptions start at the end, so
// trimmed entries are never read again). With a file it also appends every message as a frame
//   [u64 offset][u32 length][u32 crc32(payload)][payload = serialized danube.StreamMessage]
// (little endian) before append() returns, so "OK" to the producer means "handed to the OS"
// (and fsynced too under FsyncPolicy::always). The file is never rewritten; recovery reads it
// front to back, takes a frame with offset 0 where another offset was due as the start of a
// new sequence, and cuts a torn or corrupt tail.
class MessageLog {
 public:
  struct Options {
    std::optional<std::filesystem::path> file;  // nullopt: memory only
    FsyncPolicy fsync = FsyncPolicy::interval;
    std::size_t max_retained_bytes = 0;  // 0: unlimited
    bool restart_offsets = false;        // after recovering entries, number new ones from 0 again
  };

  struct AppendResult {
    std::optional<std::uint64_t> offset;  // set on success (the offset, not the position)
    bool backlog_full = false;            // retained bytes would exceed max_retained_bytes
    std::string error;                    // I/O failure, for the producer's error message
  };

  // Opens the log, recovering the file when there is one; keeps in memory the recovered entries
  // at positions >= keep_from. Throws std::runtime_error naming the file on I/O failure.
  static std::shared_ptr<MessageLog> open(Options options, std::uint64_t keep_from);

 private:
  struct Private {};  // only open() constructs, because a log must be recovered before use

 public:
  MessageLog(Private, Options options) : options_(std::move(options)) {}

  // Assigns the next position and offset (written into message.msg_id.topic_offset) and stores
  // the message.
  AppendResult append(danube::StreamMessage message);

  // The entry at `position`, or null when it is trimmed or not written yet.
  std::shared_ptr<const danube::StreamMessage> read(std::uint64_t position) const;
  std::uint64_t end_position() const;  // the position the next append gets
  void trim_before(std::uint64_t position);
  void sync();  // fdatasync when something was written since the last sync

  // The offset of the entry at `position` (or that the entry will get). Lock-free: the
  // sequences are fixed when the log is opened.
  std::uint64_t offset_of(std::uint64_t position) const;
  // Whether two positions of this log can carry the same offset.
  bool offsets_repeat() const { return sequence_starts_.size() > 1; }

  struct Stats {
    std::uint64_t first_position = 0;  // first position on disk (files) or in memory
    std::uint64_t end_position = 0;
    std::uint64_t bytes = 0;  // file size, or retained bytes without a file
  };
  Stats stats() const;

 private:
  void recover(std::uint64_t keep_from);

  struct Entry {
    std::shared_ptr<const danube::StreamMessage> message;
    std::size_t bytes = 0;
  };

  const Options options_;
  // Where each offset sequence begins (ascending; the first is 0). Written only while the log is
  // opened, before anyone else can see it, so readers need no lock.
  std::vector<std::uint64_t> sequence_starts_{0};
  mutable std::mutex mutex_;
  std::deque<Entry> entries_;  // entries_[i] has position first_retained_ + i
  std::uint64_t first_retained_ = 0;
  std::uint64_t next_position_ = 0;
  std::uint64_t first_on_disk_ = 0;
  std::size_t retained_bytes_ = 0;
  std::uint64_t file_bytes_ = 0;
  FileHandle file_;
  bool dirty_ = false;
};

}  // namespace danube::testkit::internal
