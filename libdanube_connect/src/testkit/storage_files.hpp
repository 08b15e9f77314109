#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace danube::testkit::internal {

// CRC-32 (IEEE 802.3, the zlib polynomial) of `data`, as used in the log's frame headers.
std::uint32_t crc32(std::string_view data);

// Writes `content` to `path` so that a crash leaves either the old or the new file: write a
// temporary sibling, optionally fsync it, rename it over `path`, optionally fsync the directory.
// Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           bool durable);

// The whole file, or nullopt when it does not exist. Throws std::runtime_error on read errors.
std::optional<std::string> read_whole_file(const std::filesystem::path& path);

// An open file descriptor that closes itself.
class FileHandle {
 public:
  FileHandle() = default;
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle();
  FileHandle(FileHandle&& other) noexcept : fd_(other.release()) {}
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// write(2) until everything is written; returns errno (0 on success).
int write_fully(int fd, std::string_view data);

// Little-endian fixed-width integers, for the log's frame headers.
void append_u32(std::string& out, std::uint32_t value);
void append_u64(std::string& out, std::uint64_t value);
std::uint32_t read_u32(const char* data);
std::uint64_t read_u64(const char* data);

}  // namespace danube::testkit::internal
