#include "message_log.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <stdexcept>

namespace danube::testkit::internal {
namespace {

constexpr std::size_t kFrameHeaderBytes = 8 + 4 + 4;
// A frame larger than this is corruption, not a message: the gRPC limit is 4 MiB.
constexpr std::uint32_t kMaxFramePayload = 64U * 1024U * 1024U;

}  // namespace

std::shared_ptr<MessageLog> MessageLog::open(Options options, std::uint64_t keep_from) {
  auto log = std::make_shared<MessageLog>(Private{}, std::move(options));
  if (log->options_.file) log->recover(keep_from);
  return log;
}

void MessageLog::recover(std::uint64_t keep_from) {
  const auto& path = *options_.file;
  const auto content = read_whole_file(path).value_or(std::string{});
  std::size_t position = 0;  // in bytes
  bool have_first = false;
  while (content.size() - position >= kFrameHeaderBytes) {
    const char* header = content.data() + position;
    const std::uint64_t offset = read_u64(header);
    const std::uint32_t length = read_u32(header + 8);
    const std::uint32_t checksum = read_u32(header + 12);
    if (length > kMaxFramePayload || content.size() - position - kFrameHeaderBytes < length) break;
    const std::string_view payload(header + kFrameHeaderBytes, length);
    if (crc32(payload) != checksum) break;
    // Offsets are contiguous within a sequence; a cluster-like restart begins the next at 0.
    const bool next_in_sequence = offset == next_position_ - sequence_starts_.back();
    const bool new_sequence = have_first && !next_in_sequence && offset == 0;
    if (have_first && !next_in_sequence && !new_sequence) break;
    auto message = std::make_shared<danube::StreamMessage>();
    if (!message->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) break;
    if (!have_first) {
      // The first sequence's offsets are its positions.
      first_on_disk_ = offset;
      next_position_ = offset;
      have_first = true;
    } else if (new_sequence) {
      sequence_starts_.push_back(next_position_);
    }
    if (next_position_ >= keep_from) {
      if (entries_.empty()) first_retained_ = next_position_;
      entries_.push_back(Entry{std::move(message), length});
      retained_bytes_ += length;
    }
    ++next_position_;
    position += kFrameHeaderBytes + length;
  }
  if (options_.restart_offsets && next_position_ > sequence_starts_.back()) {
    sequence_starts_.push_back(next_position_);
  }
  if (entries_.empty()) first_retained_ = next_position_;

  file_ = FileHandle(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!file_) {
    throw std::runtime_error("cannot open log '" + path.string() + "': " + std::strerror(errno));
  }
  if (position != content.size()) {
    spdlog::warn("event=log_tail_truncated file=\"{}\" kept_bytes={} dropped_bytes={}",
                 path.string(), position, content.size() - position);
    if (::ftruncate(file_.get(), static_cast<off_t>(position)) != 0) {
      throw std::runtime_error("cannot truncate log '" + path.string() +
                               "': " + std::strerror(errno));
    }
  }
  if (::lseek(file_.get(), static_cast<off_t>(position), SEEK_SET) < 0) {
    throw std::runtime_error("cannot seek log '" + path.string() + "': " + std::strerror(errno));
  }
  file_bytes_ = position;
}

MessageLog::AppendResult MessageLog::append(danube::StreamMessage message) {
  AppendResult result;
  const std::size_t bytes = message.ByteSizeLong();
  std::lock_guard lock(mutex_);
  if (options_.max_retained_bytes != 0 && retained_bytes_ + bytes > options_.max_retained_bytes &&
      !entries_.empty()) {
    result.backlog_full = true;
    return result;
  }
  const std::uint64_t offset = next_position_ - sequence_starts_.back();
  message.mutable_msg_id()->set_topic_offset(offset);
  if (file_) {
    std::string frame;
    const std::string payload = message.SerializeAsString();
    frame.reserve(kFrameHeaderBytes + payload.size());
    append_u64(frame, offset);
    append_u32(frame, static_cast<std::uint32_t>(payload.size()));
    append_u32(frame, crc32(payload));
    frame += payload;
    if (const int error = write_fully(file_.get(), frame)) {
      result.error = std::string("log write failed: ") + std::strerror(error);
      // A partial frame would poison every later append: cut the file back to the last frame.
      if (::ftruncate(file_.get(), static_cast<off_t>(file_bytes_)) == 0) {
        ::lseek(file_.get(), static_cast<off_t>(file_bytes_), SEEK_SET);
      }
      return result;
    }
    file_bytes_ += frame.size();
    if (options_.fsync == FsyncPolicy::always) {
      if (::fdatasync(file_.get()) != 0) {
        result.error = std::string("log fsync failed: ") + std::strerror(errno);
        return result;
      }
    } else {
      dirty_ = true;
    }
  }
  if (entries_.empty()) first_retained_ = next_position_;
  entries_.push_back(
      Entry{std::make_shared<const danube::StreamMessage>(std::move(message)), bytes});
  retained_bytes_ += bytes;
  ++next_position_;
  result.offset = offset;
  return result;
}

std::shared_ptr<const danube::StreamMessage> MessageLog::read(std::uint64_t position) const {
  std::lock_guard lock(mutex_);
  if (position < first_retained_ || position >= first_retained_ + entries_.size()) return nullptr;
  return entries_[position - first_retained_].message;
}

std::uint64_t MessageLog::end_position() const {
  std::lock_guard lock(mutex_);
  return next_position_;
}

std::uint64_t MessageLog::offset_of(std::uint64_t position) const {
  const auto after = std::upper_bound(sequence_starts_.begin(), sequence_starts_.end(), position);
  return position - *std::prev(after);
}

void MessageLog::trim_before(std::uint64_t position) {
  std::lock_guard lock(mutex_);
  while (!entries_.empty() && first_retained_ < position) {
    retained_bytes_ -= entries_.front().bytes;
    entries_.pop_front();
    ++first_retained_;
  }
  if (entries_.empty()) first_retained_ = next_position_;
}

void MessageLog::sync() {
  std::lock_guard lock(mutex_);
  if (!file_ || !dirty_ || options_.fsync == FsyncPolicy::never) return;
  if (::fdatasync(file_.get()) != 0) {
    spdlog::error("event=log_fsync_failed file=\"{}\" error=\"{}\"", options_.file->string(),
                  std::strerror(errno));
    return;
  }
  dirty_ = false;
}

MessageLog::Stats MessageLog::stats() const {
  std::lock_guard lock(mutex_);
  if (file_) return Stats{first_on_disk_, next_position_, file_bytes_};
  return Stats{first_retained_, next_position_, retained_bytes_};
}

}  // namespace danube::testkit::internal
