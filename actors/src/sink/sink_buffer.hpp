#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "danube/client/message.hpp"
#include "danube/common/files.hpp"

namespace danube::runtime {

// A sink's durable local buffer for one partition subscription: received messages are appended
// to segment files and made durable (fdatasync) before the broker is told they are acked; the
// connector then processes them from here, in order. What the connector has not finished when
// the process dies (even by SIGKILL) is replayed by the next run.
//
// On disk, in its own directory:
//   <first sequence, 20 digits>.seg   frames [u32 length][u32 crc32][encoded message]
//   cursor                            the first sequence not yet done (rewritten, not fsynced:
//                                     an older cursor only replays more)
//   lock                              flock'ed while open: one owner, in any process
// Sequences number the buffer's messages 0, 1, 2, ... for its whole life; a segment is deleted
// once every message in it is done. A torn or damaged frame ends its segment: the rest of that
// segment is dropped with an error naming the file and the count lost.
//
// One owner (the partition's consumer actor); not thread-safe. I/O errors throw
// std::runtime_error naming the file.
class SinkBuffer {
 public:
  struct Options {
    std::filesystem::path directory;
    std::uint64_t max_bytes = 1ull << 30;       // full at this many bytes of live segments
    std::uint64_t segment_bytes = 16ull << 20;  // a segment is closed once it reaches this
  };

  struct Entry {
    std::uint64_t sequence = 0;
    client::ReceivedMessage message;
    std::size_t bytes = 0;  // the frame's size on disk
  };

  // Opens (creating) the buffer and recovers what an earlier run left behind.
  explicit SinkBuffer(Options options);
  ~SinkBuffer();
  SinkBuffer(const SinkBuffer&) = delete;
  SinkBuffer& operator=(const SinkBuffer&) = delete;

  // Appends one message; not durable, and not handed out by next(), until sync().
  void append(const client::ReceivedMessage& message);
  // Makes every appended message durable. Cheap when nothing was appended.
  void sync();
  // The next synced messages not handed out yet, in order: at most `max_records`, and no more
  // than `max_bytes` (but at least one when any is ready).
  std::vector<Entry> next(std::size_t max_records, std::size_t max_bytes);
  // The connector has finished this message (processed, dead-lettered or skipped).
  void done(std::uint64_t sequence);
  // Rewrites the cursor file if done() moved it.
  void save_cursor();

  bool full() const { return bytes_ >= options_.max_bytes; }
  std::uint64_t bytes() const { return bytes_; }
  // Messages appended and not done yet.
  std::uint64_t pending() const { return appended_end_ - cursor_; }
  // Synced messages not handed out yet.
  std::uint64_t ready() const { return synced_end_ - read_sequence_; }
  bool has_unsynced() const { return synced_end_ != appended_end_; }
  // Messages an earlier run left unfinished, found when opening.
  std::uint64_t recovered() const { return recovered_; }
  const std::filesystem::path& directory() const { return options_.directory; }

 private:
  struct Segment {
    std::uint64_t first = 0;  // sequence of its first message
    std::uint64_t end = 0;    // one past its last message
    std::uint64_t bytes = 0;
    std::filesystem::path file;
  };

  void lock_directory();
  void recover();
  std::uint64_t read_cursor_file() const;
  void start_segment();
  void roll_segment();
  void position_reader(std::uint64_t sequence);
  // The frame at the reader's position in `segment`; false when it is torn or damaged.
  bool read_frame(const Segment& segment, std::string_view& payload);
  const Segment* segment_of(std::uint64_t sequence) const;
  void delete_done_segments();

  Options options_;
  files::FileHandle lock_;
  std::deque<Segment> segments_;  // in sequence order; the last one takes appends
  files::FileHandle writer_;      // the last segment, when it is open for appends
  bool writer_dirty_ = false;
  bool directory_dirty_ = false;  // a segment was created or deleted since the last sync
  std::uint64_t bytes_ = 0;       // all live segments
  std::uint64_t appended_end_ = 0;
  std::uint64_t synced_end_ = 0;
  // The reader: the next sequence to hand out and where its frame starts.
  std::uint64_t read_sequence_ = 0;
  std::uint64_t read_segment_first_ = 0;
  std::uint64_t read_offset_ = 0;
  files::FileHandle reader_;
  std::string read_chunk_;  // bytes of the reader's segment from read_chunk_start_ on
  std::uint64_t read_chunk_start_ = 0;
  // done() bookkeeping: everything below cursor_ is done, and these above it.
  std::uint64_t cursor_ = 0;
  std::uint64_t saved_cursor_ = 0;
  std::set<std::uint64_t> done_above_cursor_;
  std::uint64_t recovered_ = 0;
  std::string frame_;  // reused encoding buffer
};

}  // namespace danube::runtime
