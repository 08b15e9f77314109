#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "danube/connect/error.hpp"
#include "danube/connect/offset.hpp"

namespace danube::services {

using connect::ConnectorError;
using connect::Offset;

// Keeps a source's committed offsets in a JSON file, one entry per partition:
//   {"format":1,"connector":"mqtt-source","offsets":[{"partition":"p","value":7,"metadata":"m"}]}
// Saves are atomic: the file is written beside the target, fsynced, renamed over it, and the
// directory is fsynced, so a crash leaves either the old or the new file.
// Not thread-safe: one owner (the source runtime) uses it.
class FileOffsetStore {
 public:
  // `<state_dir>/<connector_name>.offsets.json` (characters other than [A-Za-z0-9._-] in the
  // name are replaced by '_'). The directory is created on first save.
  static FileOffsetStore for_connector(const std::filesystem::path& state_dir,
                                       const std::string& connector_name);
  explicit FileOffsetStore(std::filesystem::path file) : file_(std::move(file)) {}

  // Empty when the file does not exist. Throws ConnectorError(io) naming the file when it
  // cannot be read or is corrupted.
  std::vector<Offset> load() const;
  std::map<std::string, Offset> load_by_partition() const;

  // Replaces the stored offsets. Throws ConnectorError(io) naming the file.
  void save(const std::vector<Offset>& offsets) const;
  // Merges `offsets` into the stored ones (a later offset of a partition replaces the earlier
  // one) and saves; returns the merged set.
  std::vector<Offset> commit(const std::vector<Offset>& offsets) const;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

}  // namespace danube::services
