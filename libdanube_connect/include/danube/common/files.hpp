#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace danube::files {

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

// Writes `content` to `path` so that a crash leaves either the old or the new file: write a
// temporary sibling, rename it over `path`, creating the directory first. `durable` also
// fsyncs the file and the directory, so the new content survives a machine crash, not only
// the process. Throws std::runtime_error naming the path and the system's reason.
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           bool durable);

// The whole file, or nullopt when it does not exist. Throws std::runtime_error on read errors.
std::optional<std::string> read_whole_file(const std::filesystem::path& path);

// `name` with every character other than [A-Za-z0-9._-] replaced by '_', never "", "." or "..":
// how state files are named after connectors and topics.
std::string safe_file_name(const std::string& name);

}  // namespace danube::files
