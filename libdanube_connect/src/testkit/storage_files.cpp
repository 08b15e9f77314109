#include "storage_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace danube::testkit::internal {
namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit)
      c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr auto kCrcTable = make_crc_table();

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path,
                              int error) {
  throw std::runtime_error(what + " '" + path.string() + "': " + std::strerror(error));
}

void fsync_directory(const std::filesystem::path& dir) {
  FileHandle handle(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (handle) ::fsync(handle.get());  // best effort: some filesystems refuse directory fsync
}

}  // namespace

std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFU;
  for (const char ch : data)
    c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFFU] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

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
  auto temporary = path;
  temporary += ".tmp";
  {
    FileHandle handle(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!handle) throw_errno("cannot create", temporary, errno);
    if (const int error = write_fully(handle.get(), content)) {
      throw_errno("cannot write", temporary, error);
    }
    if (durable && ::fsync(handle.get()) != 0) throw_errno("cannot fsync", temporary, errno);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_errno("cannot rename to", path, errno);
  if (durable) fsync_directory(path.parent_path());
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

void append_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFU));
}

void append_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFU));
}

std::uint32_t read_u32(const char* data) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(data[i]);
  return value;
}

std::uint64_t read_u64(const char* data) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(data[i]);
  return value;
}

}  // namespace danube::testkit::internal
