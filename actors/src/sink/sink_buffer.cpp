#include "sink_buffer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "buffered_message_codec.hpp"
#include "danube/common/binary_frames.hpp"

namespace danube::runtime {
namespace {

constexpr std::size_t kFrameHeaderBytes = 4 + 4;
// A frame larger than this is damage, not a message (the broker's own limit is far below).
constexpr std::uint32_t kMaxFrameBytes = 256U * 1024U * 1024U;
constexpr std::size_t kReadChunkBytes = 256 * 1024;
constexpr std::string_view kSegmentSuffix = ".seg";
constexpr std::size_t kSequenceDigits = 20;

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error) {
  throw std::runtime_error("sink buffer: " + what + " '" + path.string() +
                           "': " + std::strerror(error));
}

std::filesystem::path segment_file(const std::filesystem::path& directory, std::uint64_t first) {
  return directory / fmt::format("{:0{}}{}", first, kSequenceDigits, kSegmentSuffix);
}

std::optional<std::uint64_t> segment_first(const std::filesystem::path& file) {
  const auto name = file.filename().string();
  if (name.size() != kSequenceDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  std::uint64_t first = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + kSequenceDigits, first);
  if (error != std::errc() || end != name.data() + kSequenceDigits) return std::nullopt;
  return first;
}

// Whole frames at the start of `content`: their count and the bytes they take.
std::pair<std::uint64_t, std::uint64_t> whole_frames(std::string_view content) {
  std::uint64_t count = 0;
  std::size_t position = 0;
  while (content.size() - position >= kFrameHeaderBytes) {
    const char* header = content.data() + position;
    const std::uint32_t length = binary::read_u32(header);
    const std::uint32_t checksum = binary::read_u32(header + 4);
    if (length > kMaxFrameBytes || content.size() - position - kFrameHeaderBytes < length) break;
    if (binary::crc32(content.substr(position + kFrameHeaderBytes, length)) != checksum) break;
    position += kFrameHeaderBytes + length;
    ++count;
  }
  return {count, position};
}

void truncate_file(const std::filesystem::path& file, std::uint64_t bytes) {
  const files::FileHandle handle(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!handle) fail("cannot open", file, errno);
  if (::ftruncate(handle.get(), static_cast<off_t>(bytes)) != 0)
    fail("cannot truncate", file, errno);
  if (::fdatasync(handle.get()) != 0) fail("cannot fdatasync", file, errno);
}

void sync_directory(const std::filesystem::path& directory) {
  const files::FileHandle handle(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!handle) fail("cannot open", directory, errno);
  if (::fsync(handle.get()) != 0) fail("cannot fsync", directory, errno);
}

}  // namespace

SinkBuffer::SinkBuffer(Options options) : options_(std::move(options)) {
  std::error_code error;
  std::filesystem::create_directories(options_.directory, error);
  if (error) fail("cannot create", options_.directory, error.value());
  lock_directory();
  recover();
}

SinkBuffer::~SinkBuffer() {
  try {
    save_cursor();
  } catch (const std::exception& e) {
    // The older cursor on disk only makes the next run replay more.
    spdlog::warn("event=sink_buffer_cursor_not_saved directory=\"{}\" error=\"{}\"",
                 options_.directory.string(), e.what());
  }
}

void SinkBuffer::lock_directory() {
  const auto file = options_.directory / "lock";
  lock_ = files::FileHandle(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock_) fail("cannot open", file, errno);
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      throw std::runtime_error("sink buffer: '" + options_.directory.string() +
                               "' is in use by another owner (its lock file is held)");
    }
    fail("cannot lock", file, errno);
  }
}

std::uint64_t SinkBuffer::read_cursor_file() const {
  const auto file = options_.directory / "cursor";
  const auto text = files::read_whole_file(file);
  if (!text) return 0;
  std::uint64_t cursor = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), cursor);
  if (error != std::errc() || end != text->data() + text->size()) {
    spdlog::warn(
        "event=sink_buffer_cursor_unreadable file=\"{}\" action=replay_every_buffered_message",
        file.string());
    return 0;
  }
  return cursor;
}

void SinkBuffer::recover() {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> found;
  for (const auto& entry : std::filesystem::directory_iterator(options_.directory)) {
    if (const auto first = segment_first(entry.path())) found.emplace_back(*first, entry.path());
  }
  std::sort(found.begin(), found.end());
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& [first, file] = found[i];
    const auto content = files::read_whole_file(file).value_or(std::string());
    const auto [count, kept] = whole_frames(content);
    if (kept != content.size()) {
      const bool last = i + 1 == found.size();
      if (last) {
        // A write the process did not finish: never synced, so never acked to the broker.
        spdlog::warn("event=sink_buffer_tail_truncated file=\"{}\" kept_bytes={} dropped_bytes={}",
                     file.string(), kept, content.size() - kept);
      } else {
        const auto next_first = found[i + 1].first;
        spdlog::error(
            "event=sink_buffer_segment_damaged file=\"{}\" kept_bytes={} dropped_bytes={} "
            "lost_messages={}",
            file.string(), kept, content.size() - kept,
            next_first > first + count ? next_first - first - count : 0);
      }
      truncate_file(file, kept);
    }
    if (!segments_.empty() && first < segments_.back().end) {
      throw std::runtime_error("sink buffer: segment '" + file.string() +
                               "' overlaps the one before it");
    }
    if (count == 0) {
      std::filesystem::remove(file);
      continue;
    }
    segments_.push_back(Segment{first, first + count, kept, file});
    bytes_ += kept;
  }

  const std::uint64_t stored_cursor = read_cursor_file();
  if (segments_.empty()) {
    cursor_ = stored_cursor;
    appended_end_ = stored_cursor;
  } else {
    appended_end_ = segments_.back().end;
    cursor_ = std::clamp(stored_cursor, segments_.front().first, appended_end_);
  }
  synced_end_ = appended_end_;
  saved_cursor_ = stored_cursor;
  recovered_ = 0;
  for (const auto& segment : segments_) {
    if (segment.end <= cursor_) continue;
    recovered_ += segment.end - std::max(segment.first, cursor_);
  }
  delete_done_segments();
  position_reader(cursor_);
}

const SinkBuffer::Segment* SinkBuffer::segment_of(std::uint64_t sequence) const {
  for (const auto& segment : segments_) {
    if (sequence < segment.first) return nullptr;
    if (sequence < segment.end) return &segment;
  }
  return nullptr;
}

void SinkBuffer::position_reader(std::uint64_t sequence) {
  read_sequence_ = sequence;
  read_offset_ = 0;
  reader_ = files::FileHandle();
  read_chunk_.clear();
  const Segment* segment = segment_of(sequence);
  if (!segment) {
    // In a hole or at the end: the reader starts at the next segment's first message.
    read_segment_first_ = sequence;
    return;
  }
  read_segment_first_ = segment->first;
  // Skip the frames before `sequence`: the cursor lands inside a segment after a restart.
  for (std::uint64_t skipped = segment->first; skipped < sequence; ++skipped) {
    std::string_view frame;
    if (!read_frame(*segment, frame)) break;
    read_offset_ += kFrameHeaderBytes + frame.size();
  }
}

bool SinkBuffer::read_frame(const Segment& segment, std::string_view& payload) {
  if (!reader_) {
    reader_ = files::FileHandle(::open(segment.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!reader_) fail("cannot open", segment.file, errno);
    read_chunk_.clear();
  }
  const auto in_chunk = [&](std::uint64_t bytes) {
    return read_offset_ >= read_chunk_start_ &&
           read_offset_ + bytes <= read_chunk_start_ + read_chunk_.size();
  };
  const auto refill = [&](std::uint64_t bytes) {
    read_chunk_.resize(std::max<std::size_t>(kReadChunkBytes, bytes));
    std::size_t filled = 0;
    while (filled < read_chunk_.size()) {
      const auto got =
          ::pread(reader_.get(), read_chunk_.data() + filled, read_chunk_.size() - filled,
                  static_cast<off_t>(read_offset_ + filled));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail("cannot read", segment.file, errno);
      if (got == 0) break;
      filled += static_cast<std::size_t>(got);
    }
    read_chunk_.resize(filled);
    read_chunk_start_ = read_offset_;
  };
  if (!in_chunk(kFrameHeaderBytes)) refill(kFrameHeaderBytes);
  if (!in_chunk(kFrameHeaderBytes)) return false;
  const char* header = read_chunk_.data() + (read_offset_ - read_chunk_start_);
  const std::uint32_t length = binary::read_u32(header);
  const std::uint32_t checksum = binary::read_u32(header + 4);
  if (length > kMaxFrameBytes) return false;
  if (!in_chunk(kFrameHeaderBytes + length)) refill(kFrameHeaderBytes + length);
  if (!in_chunk(kFrameHeaderBytes + length)) return false;
  payload = std::string_view(
      read_chunk_.data() + (read_offset_ - read_chunk_start_) + kFrameHeaderBytes, length);
  return binary::crc32(payload) == checksum;
}

void SinkBuffer::start_segment() {
  const auto file = segment_file(options_.directory, appended_end_);
  writer_ = files::FileHandle(
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (!writer_) fail("cannot create", file, errno);
  segments_.push_back(Segment{appended_end_, appended_end_, 0, file});
  directory_dirty_ = true;
}

void SinkBuffer::roll_segment() {
  // Closed segments are durable: sync() only has the open one to flush.
  if (::fdatasync(writer_.get()) != 0) fail("cannot fdatasync", segments_.back().file, errno);
  writer_ = files::FileHandle();
  writer_dirty_ = false;
}

void SinkBuffer::append(const client::ReceivedMessage& message) {
  if (!writer_) start_segment();
  auto& segment = segments_.back();
  // The header is filled in once the message is encoded behind it.
  frame_.assign(kFrameHeaderBytes, '\0');
  append_buffered_message(message, frame_);
  const std::string_view encoded = std::string_view(frame_).substr(kFrameHeaderBytes);
  std::string header;
  binary::append_u32(header, static_cast<std::uint32_t>(encoded.size()));
  binary::append_u32(header, binary::crc32(encoded));
  frame_.replace(0, kFrameHeaderBytes, header);
  if (const int error = files::write_fully(writer_.get(), frame_)) {
    // A partial frame would hide every later one: cut the file back to its last whole frame.
    if (::ftruncate(writer_.get(), static_cast<off_t>(segment.bytes)) != 0) {
      writer_ = files::FileHandle();
    }
    fail("cannot write", segment.file, error);
  }
  segment.bytes += frame_.size();
  segment.end += 1;
  bytes_ += frame_.size();
  appended_end_ += 1;
  writer_dirty_ = true;
  if (segment.bytes >= options_.segment_bytes) roll_segment();
}

void SinkBuffer::sync() {
  if (writer_ && writer_dirty_) {
    if (::fdatasync(writer_.get()) != 0) fail("cannot fdatasync", segments_.back().file, errno);
    writer_dirty_ = false;
  }
  if (directory_dirty_) {
    sync_directory(options_.directory);
    directory_dirty_ = false;
  }
  synced_end_ = appended_end_;
}

std::vector<SinkBuffer::Entry> SinkBuffer::next(std::size_t max_records, std::size_t max_bytes) {
  std::vector<Entry> entries;
  std::size_t bytes = 0;
  while (entries.size() < max_records && read_sequence_ < synced_end_ &&
         (entries.empty() || bytes < max_bytes)) {
    const Segment* segment = segment_of(read_sequence_);
    if (!segment) {
      // A hole left by a damaged segment: continue at the next segment.
      const auto next = std::find_if(segments_.begin(), segments_.end(),
                                     [&](const Segment& s) { return s.first > read_sequence_; });
      if (next == segments_.end()) break;
      for (auto sequence = read_sequence_; sequence < next->first; ++sequence)
        done(sequence);
      position_reader(next->first);
      continue;
    }
    if (segment->first != read_segment_first_) {
      // The reader moves on to the next segment at its first message.
      read_segment_first_ = segment->first;
      read_offset_ = 0;
      reader_ = files::FileHandle();
    }
    std::string_view payload;
    std::optional<client::ReceivedMessage> message;
    if (read_frame(*segment, payload)) message = decode_buffered_message(payload);
    if (!message) {
      const auto lost = segment->end - read_sequence_;
      spdlog::error(
          "event=sink_buffer_frame_unreadable file=\"{}\" byte_offset={} sequence={} "
          "lost_messages={}",
          segment->file.string(), read_offset_, read_sequence_, lost);
      const auto end = segment->end;
      for (auto sequence = read_sequence_; sequence < end; ++sequence)
        done(sequence);
      position_reader(end);
      continue;
    }
    const auto frame_bytes = kFrameHeaderBytes + payload.size();
    entries.push_back(Entry{read_sequence_, std::move(*message), frame_bytes});
    bytes += frame_bytes;
    read_offset_ += frame_bytes;
    ++read_sequence_;
  }
  return entries;
}

void SinkBuffer::done(std::uint64_t sequence) {
  if (sequence < cursor_) return;
  if (sequence != cursor_) {
    done_above_cursor_.insert(sequence);
    return;
  }
  ++cursor_;
  while (!done_above_cursor_.empty() && *done_above_cursor_.begin() == cursor_) {
    done_above_cursor_.erase(done_above_cursor_.begin());
    ++cursor_;
  }
  delete_done_segments();
}

void SinkBuffer::delete_done_segments() {
  // The open segment stays, even when done: appends go on into it.
  while (!segments_.empty() && segments_.front().end <= cursor_ &&
         !(writer_ && segments_.size() == 1)) {
    const auto& segment = segments_.front();
    if (segment.first == read_segment_first_) reader_ = files::FileHandle();
    std::error_code error;
    std::filesystem::remove(segment.file, error);
    if (error) fail("cannot delete", segment.file, error.value());
    bytes_ -= segment.bytes;
    segments_.pop_front();
  }
}

void SinkBuffer::save_cursor() {
  if (cursor_ == saved_cursor_) return;
  files::write_file_atomically(options_.directory / "cursor", std::to_string(cursor_), false);
  saved_cursor_ = cursor_;
}

}  // namespace danube::runtime
