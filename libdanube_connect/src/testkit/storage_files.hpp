#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "danube/common/binary_frames.hpp"
#include "danube/common/files.hpp"

namespace danube::testkit::internal {

// Files are written, read and closed with the shared helpers.
using files::FileHandle;
using files::read_whole_file;
using files::write_file_atomically;
using files::write_fully;

// Frames are checksummed and encoded with the shared helpers.
using binary::append_u32;
using binary::append_u64;
using binary::crc32;
using binary::read_u32;
using binary::read_u64;

}  // namespace danube::testkit::internal
