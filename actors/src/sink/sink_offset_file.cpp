#include "sink_offset_file.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "danube/common/files.hpp"
#include "danube/common/json_nesting.hpp"
#include "danube/services/offset_store.hpp"

namespace danube::runtime {
namespace {

constexpr int kFormat = 1;
constexpr std::uintmax_t kMaxFileBytes = 16 * 1024 * 1024;
// A sink confirms each report right after writing it; a few can wait at a crash.
constexpr std::size_t kMaxUnconfirmedReports = 10000;

std::uint64_t unsigned_field(const nlohmann::json& object, const char* key) {
  const auto value = object.find(key);
  if (value == object.end() || !value->is_number_unsigned()) {
    throw std::invalid_argument(std::string(key) + " must be a non-negative integer");
  }
  return value->get<std::uint64_t>();
}

PartitionContinuity::State parse(const std::string& text, const std::string& partition_topic,
                                 const std::string& subscription) {
  if (json_nesting_exceeds_limit(text)) throw std::invalid_argument(json_nesting_error());
  const auto document = nlohmann::json::parse(text);
  if (!document.is_object()) throw std::invalid_argument("not an object");
  if (unsigned_field(document, "format") != kFormat) throw std::invalid_argument("unknown format");
  if (document.value("topic", std::string()) != partition_topic ||
      document.value("subscription", std::string()) != subscription) {
    throw std::invalid_argument("belongs to another topic or subscription");
  }
  PartitionContinuity::State state;
  if (const auto next = document.find("next_expected"); next != document.end() && !next->is_null())
    state.next_expected = unsigned_field(document, "next_expected");
  state.settled_below = unsigned_field(document, "settled_below");
  state.newest_publish_time = unsigned_field(document, "newest_publish_time");
  for (const auto& range : document.at("settled_ranges")) {
    const auto first = range.at(0).get<std::uint64_t>();
    const auto end = range.at(1).get<std::uint64_t>();
    if (end <= first || first < state.settled_below) {
      throw std::invalid_argument("settled_ranges out of order");
    }
    state.settled_ranges.emplace(first, end);
  }
  for (const auto& entry : document.at("recent")) {
    const auto digest = entry.at(1).get<std::string>();
    state.recent.emplace(entry.at(0).get<std::uint64_t>(), std::stoull(digest, nullptr, 16));
  }
  // Absent from files written before reports were confirmed.
  if (const auto reports = document.find("unconfirmed_reports"); reports != document.end()) {
    for (const auto& range : *reports) {
      const OffsetGap gap{range.at(0).get<std::uint64_t>(), range.at(1).get<std::uint64_t>()};
      if (gap.last < gap.first) throw std::invalid_argument("unconfirmed_reports out of order");
      state.unconfirmed_reports.push_back(gap);
    }
  }
  // Absent from files written before reordered offsets were told from lost ones.
  if (const auto suspected = document.find("suspected"); suspected != document.end()) {
    std::uint64_t previous_end = 0;
    for (const auto& range : *suspected) {
      const auto first = range.at(0).get<std::uint64_t>();
      const auto end = range.at(1).get<std::uint64_t>();
      if (end <= first || first < previous_end)
        throw std::invalid_argument("suspected out of order");
      state.suspected.emplace(first, end);
      previous_end = end;
    }
  }
  if (state.recent.size() > PartitionContinuity::kRecentIdentities ||
      state.suspected.size() > PartitionContinuity::kMaxSettledRanges ||
      state.unconfirmed_reports.size() > kMaxUnconfirmedReports ||
      state.settled_ranges.size() > PartitionContinuity::kMaxSettledRanges) {
    throw std::invalid_argument("more entries than a sink keeps");
  }
  return state;
}

// Distinguishes names that safe_file_name maps to the same text ("/a_b/c" and "/a/b_c").
std::string name_digest(const std::string& topic, const std::string& subscription) {
  return fmt::format("{:08x}",
                     static_cast<std::uint32_t>(identify(topic, 0, 0, subscription).digest));
}

}  // namespace

std::string partition_subscription_stem(const std::string& partition_topic,
                                        const std::string& subscription) {
  return files::safe_file_name(partition_topic) + "." + files::safe_file_name(subscription) + "." +
         name_digest(partition_topic, subscription);
}

SinkOffsetFile::SinkOffsetFile(const std::filesystem::path& state_dir,
                               const std::string& connector_name,
                               const std::string& partition_topic, const std::string& subscription)
    : file_(state_dir / (files::safe_file_name(connector_name) + ".sink." +
                         partition_subscription_stem(partition_topic, subscription) + ".json")),
      partition_topic_(partition_topic),
      subscription_(subscription) {}

std::optional<PartitionContinuity::State> SinkOffsetFile::load(std::string& problem) const {
  std::error_code error;
  if (!std::filesystem::exists(file_, error)) return std::nullopt;
  try {
    const auto size = std::filesystem::file_size(file_);
    if (size > kMaxFileBytes) throw std::invalid_argument("too large");
    const auto text = files::read_whole_file(file_);
    if (!text) throw std::invalid_argument("vanished while opening it");
    return parse(*text, partition_topic_, subscription_);
  } catch (const std::exception& e) {
    problem = e.what();
  }
  const auto aside = std::filesystem::path(file_.string() + ".corrupt");
  std::filesystem::rename(file_, aside, error);
  problem += error ? " (could not move it aside: " + error.message() + ")"
                   : " (moved to " + aside.string() + ")";
  return std::nullopt;
}

void SinkOffsetFile::save(const PartitionContinuity::State& state) const {
  // Written by hand: a sink saves after every few records, and building a JSON document for
  // 512 identities each time cost a tenth of its throughput; formatting each number through
  // fmt cost almost half of a sink's instructions. nlohmann::json still reads it.
  std::string text;
  text.reserve(256 + partition_topic_.size() + subscription_.size() +
               state.settled_ranges.size() * 44 + state.recent.size() * 42 +
               (state.unconfirmed_reports.size() + state.suspected.size()) * 44);
  auto number = [&text](std::uint64_t value) {
    char digits[20];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    text.append(digits, end);
  };
  auto hex16 = [&text](std::uint64_t value) {
    static constexpr char kHex[] = "0123456789abcdef";
    char digits[16];
    for (int i = 15; i >= 0; --i, value >>= 4)
      digits[i] = kHex[value & 0xf];
    text.append(digits, sizeof digits);
  };
  // [[a,b],...] of `entries`, each written as `first` then `second`.
  auto pairs = [&](const auto& entries, auto first, auto second) {
    const char* separator = "";
    for (const auto& entry : entries) {
      text += separator;
      text += '[';
      first(entry);
      text += ',';
      second(entry);
      text += ']';
      separator = ",";
    }
  };
  auto range = [&](const auto& ranges) {
    pairs(
        ranges, [&](const auto& r) { number(r.first); }, [&](const auto& r) { number(r.second); });
  };
  text += "{\"format\":";
  number(kFormat);
  text += ",\"topic\":";
  text += nlohmann::json(partition_topic_).dump();
  text += ",\"subscription\":";
  text += nlohmann::json(subscription_).dump();
  text += ",\"next_expected\":";
  if (state.next_expected) {
    number(*state.next_expected);
  } else {
    text += "null";
  }
  text += ",\"settled_below\":";
  number(state.settled_below);
  text += ",\"settled_ranges\":[";
  range(state.settled_ranges);
  text += "],\"recent\":[";
  pairs(
      state.recent, [&](const auto& r) { number(r.first); },
      [&](const auto& r) {
        text += '"';
        hex16(r.second);
        text += '"';
      });
  text += "],\"unconfirmed_reports\":[";
  pairs(
      state.unconfirmed_reports, [&](const OffsetGap& gap) { number(gap.first); },
      [&](const OffsetGap& gap) { number(gap.last); });
  text += "],\"suspected\":[";
  range(state.suspected);
  text += "],\"newest_publish_time\":";
  number(state.newest_publish_time);
  text += "}\n";

  try {
    files::write_file_atomically(file_, text, /*durable=*/false);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("sink offsets file " + file_.string() + ": " + e.what());
  }
}

}  // namespace danube::runtime
