#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Helpers for the length-and-checksum framed files we write (the embedded broker's log, the
// sink buffer): a frame's checksum and its little-endian fixed-width integers.
namespace danube::binary {

// CRC-32 (IEEE 802.3, the zlib polynomial) of `data`.
std::uint32_t crc32(std::string_view data);

void append_u32(std::string& out, std::uint32_t value);
void append_u64(std::string& out, std::uint64_t value);
// Read 4 or 8 bytes at `data`; the caller checks that they are there.
std::uint32_t read_u32(const char* data);
std::uint64_t read_u64(const char* data);

}  // namespace danube::binary
