#include "danube/services/offset_store.hpp"

#include <nlohmann/json.hpp>

#include "danube/common/files.hpp"
#include "danube/common/json_nesting.hpp"
#include "danube/connect/error.hpp"

namespace danube::services {

namespace {

constexpr int kFormat = 1;
// Offsets files hold one small entry per partition; anything bigger is not ours.
constexpr std::uintmax_t kMaxFileBytes = 64 * 1024 * 1024;

[[noreturn]] void corrupted(const std::filesystem::path& file, const std::string& why) {
  throw ConnectorError::io("corrupted offsets file " + file.string() + ": " + why);
}

}  // namespace

FileOffsetStore FileOffsetStore::for_connector(const std::filesystem::path& state_dir,
                                               const std::string& connector_name) {
  return FileOffsetStore(state_dir / (files::safe_file_name(connector_name) + ".offsets.json"));
}

std::vector<Offset> FileOffsetStore::load() const {
  std::error_code error;
  if (!std::filesystem::exists(file_, error)) return {};
  const auto size = std::filesystem::file_size(file_, error);
  if (error) throw ConnectorError::io("offsets file " + file_.string() + ": " + error.message());
  if (size > kMaxFileBytes) corrupted(file_, "too large (" + std::to_string(size) + " bytes)");
  std::string text;
  try {
    auto content = files::read_whole_file(file_);
    if (!content) return {};  // removed since the check above
    text = std::move(*content);
  } catch (const std::runtime_error& e) {
    throw ConnectorError::io("offsets file " + file_.string() + ": " + e.what());
  }

  if (json_nesting_exceeds_limit(text)) corrupted(file_, json_nesting_error());
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    corrupted(file_, std::string("not valid JSON: ") + e.what());
  }
  if (!document.is_object()) corrupted(file_, "expected a JSON object");
  const auto format = document.find("format");
  if (format == document.end() || !format->is_number_integer() || *format != kFormat) {
    corrupted(file_, "missing or unsupported \"format\" (expected 1)");
  }
  const auto entries = document.find("offsets");
  if (entries == document.end() || !entries->is_array())
    corrupted(file_, "missing \"offsets\" array");
  std::vector<Offset> offsets;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& entry = (*entries)[i];
    const std::string where = "offsets[" + std::to_string(i) + "]";
    if (!entry.is_object()) corrupted(file_, where + " is not an object");
    const auto partition = entry.find("partition");
    const auto value = entry.find("value");
    if (partition == entry.end() || !partition->is_string()) {
      corrupted(file_, where + ".partition must be a string");
    }
    if (value == entry.end() || !value->is_number_unsigned()) {
      corrupted(file_, where + ".value must be a non-negative integer");
    }
    Offset offset(partition->get<std::string>(), value->get<std::uint64_t>());
    if (const auto metadata = entry.find("metadata"); metadata != entry.end()) {
      if (!metadata->is_string()) corrupted(file_, where + ".metadata must be a string");
      offset.metadata = metadata->get<std::string>();
    }
    offsets.push_back(std::move(offset));
  }
  return offsets;
}

std::map<std::string, Offset> FileOffsetStore::load_by_partition() const {
  std::map<std::string, Offset> by_partition;
  for (auto& offset : load())
    by_partition.insert_or_assign(offset.partition, offset);
  return by_partition;
}

void FileOffsetStore::save(const std::vector<Offset>& offsets) const {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& offset : offsets) {
    nlohmann::json entry{{"partition", offset.partition}, {"value", offset.value}};
    if (offset.metadata) entry["metadata"] = *offset.metadata;
    entries.push_back(std::move(entry));
  }
  const nlohmann::json document{{"format", kFormat}, {"offsets", std::move(entries)}};
  std::string text;
  try {
    text = document.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    throw ConnectorError::io("offsets file " + file_.string() +
                             ": cannot serialize (partition names must be UTF-8): " + e.what());
  }

  try {
    files::write_file_atomically(file_, text, /*durable=*/true);
  } catch (const std::runtime_error& e) {
    throw ConnectorError::io("offsets file " + file_.string() + ": " + e.what());
  }
}

std::vector<Offset> FileOffsetStore::commit(const std::vector<Offset>& offsets) const {
  auto merged = load_by_partition();
  for (const auto& offset : offsets)
    merged.insert_or_assign(offset.partition, offset);
  std::vector<Offset> result;
  result.reserve(merged.size());
  for (auto& [partition, offset] : merged)
    result.push_back(std::move(offset));
  save(result);
  return result;
}

}  // namespace danube::services
