#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "danube/common/files.hpp"

namespace danube::testkit::internal {

// CRC-32 (IEEE 802.3, the zlib polynomial) of `data`, as used in the log's frame headers.
std::uint32_t crc32(std::string_view data);

// Files are written, read and closed with the shared helpers.
using files::FileHandle;
using files::read_whole_file;
using files::write_file_atomically;
using files::write_fully;

// Little-endian fixed-width integers, for the log's frame headers.
void append_u32(std::string& out, std::uint32_t value);
void append_u64(std::string& out, std::uint64_t value);
std::uint32_t read_u32(const char* data);
std::uint64_t read_u64(const char* data);

}  // namespace danube::testkit::internal
