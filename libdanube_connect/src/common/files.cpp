#include "danube/common/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace danube::files {
namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path,
                              int error) {
  throw std::runtime_error(what + " '" + path.string() + "': " + std::strerror(error));
}

void fsync_directory(const std::filesystem::path& dir) {
  FileHandle handle(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (handle) ::fsync(handle.get());  // best effort: some filesystems refuse directory fsync
}

}  // namespace

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

int write_fully(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return 0;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           bool durable) {
  const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw_errno("cannot create directory", directory, error.value());
  auto temporary = path;
  temporary += ".tmp";
  {
    FileHandle handle(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!handle) throw_errno("cannot create", temporary, errno);
    if (const int failure = write_fully(handle.get(), content)) {
      throw_errno("cannot write", temporary, failure);
    }
    if (durable && ::fsync(handle.get()) != 0) throw_errno("cannot fsync", temporary, errno);
    if (::close(handle.release()) != 0) throw_errno("cannot close", temporary, errno);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_errno("cannot rename to", path, errno);
  if (durable) fsync_directory(directory);
}

std::optional<std::string> read_whole_file(const std::filesystem::path& path) {
  FileHandle handle(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!handle) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("cannot open", path, errno);
  }
  std::string content;
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    const ssize_t got = ::read(handle.get(), buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read", path, errno);
    }
    if (got == 0) break;
    content.append(buffer.data(), static_cast<std::size_t>(got));
  }
  return content;
}

std::string safe_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

}  // namespace danube::files
