#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "danube/DanubeApi.pb.h"
#include "danube/testkit/embedded_broker.hpp"
#include "storage_files.hpp"

namespace danube::testkit::internal {

// The log of one reliable topic: offsets start at 0 and grow by one per message.
//
// In memory it keeps only what some subscription may still need (the owner trims below the
// lowest subscription cursor; new subscriptions start at the end, so trimmed entries are never
// read again). With a file it also appends every message as a frame
//   [u64 offset][u32 length][u32 crc32(payload)][payload = serialized danube.StreamMessage]
// (little endian) before append() returns, so "OK" to the producer means "handed to the OS"
// (and fsynced too under FsyncPolicy::always). The file is never rewritten; recovery reads it
// front to back and cuts a torn or corrupt tail.
class MessageLog {
 public:
  struct Options {
    std::optional<std::filesystem::path> file;  // nullopt: memory only
    FsyncPolicy fsync = FsyncPolicy::interval;
    std::size_t max_retained_bytes = 0;  // 0: unlimited
  };

  struct AppendResult {
    std::optional<std::uint64_t> offset;  // set on success
    bool backlog_full = false;            // retained bytes would exceed max_retained_bytes
    std::string error;                    // I/O failure, for the producer's error message
  };

  // Opens the log, recovering the file when there is one; keeps in memory the recovered entries
  // with offset >= keep_from. Throws std::runtime_error naming the file on I/O failure.
  static std::shared_ptr<MessageLog> open(Options options, std::uint64_t keep_from);

 private:
  struct Private {};  // only open() constructs, because a log must be recovered before use

 public:
  MessageLog(Private, Options options) : options_(std::move(options)) {}

  // Assigns the next offset (also written into message.msg_id.topic_offset) and stores it.
  AppendResult append(danube::StreamMessage message);

  // The entry at `offset`, or null when it is trimmed or not written yet.
  std::shared_ptr<const danube::StreamMessage> read(std::uint64_t offset) const;
  std::uint64_t end_offset() const;  // the offset the next append gets
  void trim_before(std::uint64_t offset);
  void sync();  // fdatasync when something was written since the last sync

  struct Stats {
    std::uint64_t first_offset = 0;  // first offset on disk (files) or in memory
    std::uint64_t end_offset = 0;
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
  mutable std::mutex mutex_;
  std::deque<Entry> entries_;  // entries_[i] has offset first_retained_ + i
  std::uint64_t first_retained_ = 0;
  std::uint64_t next_offset_ = 0;
  std::uint64_t first_on_disk_ = 0;
  std::size_t retained_bytes_ = 0;
  std::uint64_t file_bytes_ = 0;
  FileHandle file_;
  bool dirty_ = false;
};

}  // namespace danube::testkit::internal
