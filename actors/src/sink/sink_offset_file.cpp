#include "sink_offset_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string_view>

#include "danube/client/partitioning.hpp"
#include "danube/common/files.hpp"
#include "danube/common/json_nesting.hpp"
#include "danube/services/offset_store.hpp"

namespace danube::runtime {
namespace {

constexpr int kFormat = 1;
constexpr std::uintmax_t kMaxFileBytes = 16 * 1024 * 1024;
// A sink confirms each report right after writing it; a few can wait at a crash.
constexpr std::size_t kMaxUnconfirmedReports = 10000;
// A save appends a journal line while it is short and the journal small; otherwise it writes a
// snapshot, which costs about as much as 100 lines and is then amortised over the records.
constexpr std::size_t kMaxJournalIdentities = 64;
constexpr std::size_t kMaxJournalRanges = 64;
constexpr std::uint64_t kMaxJournalBytes = 1024 * 1024;

// Appends numbers to a string without fmt: formatting each number through fmt cost almost half
// of a sink's instructions when every save rewrote the snapshot.
struct TextWriter {
  std::string& text;
  void number(std::uint64_t value) {
    char digits[20];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    text.append(digits, end);
  }
  void hex16(std::uint64_t value) {
    static constexpr char kHex[] = "0123456789abcdef";
    char digits[16];
    for (int i = 15; i >= 0; --i, value >>= 4)
      digits[i] = kHex[value & 0xf];
    text.append(digits, sizeof digits);
  }
};

std::optional<std::uint64_t> parse_hex16(std::string_view text) {
  std::uint64_t value = 0;
  if (text.size() != 16) return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A snapshot's journal generation: where a run starts is random, so that it differs from what
// an earlier run (whose journal lines may still be on disk) used.
std::uint64_t first_generation() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

// Reads one journal line's space-separated fields.
class LineReader {
 public:
  explicit LineReader(std::string_view line) : rest_(line) {}
  std::string_view field() {
    const auto space = rest_.find(' ');
    const auto value = rest_.substr(0, space);
    rest_ = space == std::string_view::npos ? std::string_view() : rest_.substr(space + 1);
    return value;
  }
  std::uint64_t number() {
    const auto text = field();
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
      throw std::invalid_argument("not a number");
    return value;
  }
  std::uint64_t hex() {
    const auto value = parse_hex16(field());
    if (!value) throw std::invalid_argument("not a digest");
    return *value;
  }
  std::size_t count(std::size_t limit) {
    const auto value = number();
    if (value > limit) throw std::invalid_argument("more entries than a save writes");
    return static_cast<std::size_t>(value);
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Applies one journal line (checksum already verified) to `state`. Throws on a malformed line.
void apply_journal_line(std::string_view body, PartitionContinuity::State& state) {
  LineReader in(body);
  in.field();  // the generation, matched by the caller
  PartitionContinuity::State next;
  if (const auto field = in.field(); field != "-") next.next_expected = LineReader(field).number();
  next.settled_below = in.number();
  next.newest_publish_time = in.number();
  const auto read_ranges = [&](std::map<std::uint64_t, std::uint64_t>& ranges,
                               std::uint64_t floor) {
    for (auto n = in.count(kMaxJournalRanges); n > 0; --n) {
      const auto first = in.number();
      const auto end = in.number();
      if (end <= first || first < floor) throw std::invalid_argument("ranges out of order");
      ranges.emplace(first, end);
      floor = end;
    }
  };
  read_ranges(next.settled_ranges, next.settled_below);
  read_ranges(next.suspected, 0);
  for (auto n = in.count(kMaxJournalRanges); n > 0; --n) {
    const OffsetGap gap{in.number(), in.number()};
    if (gap.last < gap.first) throw std::invalid_argument("report out of order");
    next.unconfirmed_reports.push_back(gap);
  }
  PartitionContinuity::RecordedIdentities identities(in.count(kMaxJournalIdentities));
  for (auto& [offset, digest] : identities) {
    offset = in.number();
    digest = in.hex();
  }
  if (!in.done()) throw std::invalid_argument("trailing fields");
  // Checked whole: a rejected line leaves `state` as it was.
  next.recent = std::move(state.recent);
  for (const auto& [offset, digest] : identities) {
    next.recent[offset] = digest;
    while (next.recent.size() > PartitionContinuity::kRecentIdentities)
      next.recent.erase(next.recent.begin());
  }
  state = std::move(next);
}

// Applies the journal's lines of `generation`, in order, up to the first torn or malformed one
// (a sink stopped in the middle of a write leaves at most the last line torn). Never throws.
void replay_journal(const std::filesystem::path& file, std::uint64_t generation,
                    PartitionContinuity::State& state) {
  std::size_t line_number = 0;
  try {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    if (error) return;  // none: everything is in the snapshot
    if (size > kMaxFileBytes) throw std::invalid_argument("journal too large");
    const auto text = files::read_whole_file(file);
    if (!text) return;
    std::string_view rest(*text);
    while (!rest.empty()) {
      ++line_number;
      const auto newline = rest.find('\n');
      const auto line = rest.substr(0, newline);
      rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
      const auto last_space = line.rfind(' ');
      const auto checksum = last_space == std::string_view::npos
                                ? std::nullopt
                                : parse_hex16(line.substr(last_space + 1));
      const auto body = line.substr(0, last_space);
      if (newline == std::string_view::npos || !checksum || client::fnv1a_64(body) != *checksum)
        throw std::invalid_argument("torn or damaged");
      if (parse_hex16(body.substr(0, 16)) != generation) continue;  // an older snapshot's
      apply_journal_line(body, state);
    }
  } catch (const std::exception& e) {
    // The snapshot and the lines before stand: an older state can only report processed
    // offsets as lost, never hide a loss.
    spdlog::warn("event=sink_offsets_journal_cut file={} line={} reason=\"{}\"", file.string(),
                 line_number, e.what());
  }
}

std::uint64_t unsigned_field(const nlohmann::json& object, const char* key) {
  const auto value = object.find(key);
  if (value == object.end() || !value->is_number_unsigned()) {
    throw std::invalid_argument(std::string(key) + " must be a non-negative integer");
  }
  return value->get<std::uint64_t>();
}

// The snapshot's state; `generation` is its journal's (nullopt in files written before the
// journal).
PartitionContinuity::State parse(const std::string& text, const std::string& partition_topic,
                                 const std::string& subscription,
                                 std::optional<std::uint64_t>& generation) {
  if (json_nesting_exceeds_limit(text)) throw std::invalid_argument(json_nesting_error());
  const auto document = nlohmann::json::parse(text);
  if (!document.is_object()) throw std::invalid_argument("not an object");
  if (unsigned_field(document, "format") != kFormat) throw std::invalid_argument("unknown format");
  if (document.value("topic", std::string()) != partition_topic ||
      document.value("subscription", std::string()) != subscription) {
    throw std::invalid_argument("belongs to another topic or subscription");
  }
  if (const auto journal = document.find("journal"); journal != document.end()) {
    generation = journal->is_string() ? parse_hex16(journal->get<std::string>()) : std::nullopt;
    if (!generation) throw std::invalid_argument("journal must be 16 hex digits");
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
      journal_file_(std::filesystem::path(file_).replace_extension(".journal")),
      partition_topic_(partition_topic),
      subscription_(subscription),
      generation_(first_generation()) {}

std::optional<PartitionContinuity::State> SinkOffsetFile::load(std::string& problem) const {
  std::error_code error;
  if (!std::filesystem::exists(file_, error)) return std::nullopt;
  // A snapshot replaced while its journal was read (by a sink saving as this loads) may have
  // emptied the journal under the replay: read both again.
  const auto snapshot_inode = [this] {
    struct stat status {};
    return ::stat(file_.c_str(), &status) == 0 ? status.st_ino : ino_t{0};
  };
  try {
    for (int attempt = 1;; ++attempt) {
      const auto inode = snapshot_inode();
      const auto size = std::filesystem::file_size(file_);
      if (size > kMaxFileBytes) throw std::invalid_argument("too large");
      const auto text = files::read_whole_file(file_);
      if (!text) throw std::invalid_argument("vanished while opening it");
      std::optional<std::uint64_t> generation;
      auto state = parse(*text, partition_topic_, subscription_, generation);
      if (generation) replay_journal(journal_file_, *generation, state);
      if (attempt == 5 || snapshot_inode() == inode) return state;
    }
  } catch (const std::exception& e) {
    problem = e.what();
  }
  const auto aside = std::filesystem::path(file_.string() + ".corrupt");
  std::filesystem::rename(file_, aside, error);
  problem += error ? " (could not move it aside: " + error.message() + ")"
                   : " (moved to " + aside.string() + ")";
  return std::nullopt;
}

void SinkOffsetFile::save(const PartitionContinuity::State& state,
                          const PartitionContinuity::RecordedIdentities* recorded) {
  const auto ranges =
      state.settled_ranges.size() + state.suspected.size() + state.unconfirmed_reports.size();
  if (journal_ && recorded && recorded->size() <= kMaxJournalIdentities &&
      ranges <= kMaxJournalRanges && journal_bytes_ < kMaxJournalBytes && journal_is_ours()) {
    try {
      append_journal_line(state, *recorded);
      return;
    } catch (...) {
      journal_ = files::FileHandle();  // whatever happened to the line, snapshot next time
      throw;
    }
  }
  save_snapshot(state);
}

// One instance writes a partition subscription's files. Should another one (the same connector
// and subscription started twice) have appended lines or written a snapshot since this one's
// last line, the journal has another length, and this one writes a snapshot instead of lines
// the other's snapshot would not apply. (Right after this one's own snapshot, when both lengths
// are 0, it cannot tell; two consumers of one Exclusive subscription do not run at once.)
bool SinkOffsetFile::journal_is_ours() const {
  struct stat status {};
  return ::fstat(journal_.get(), &status) == 0 &&
         static_cast<std::uint64_t>(status.st_size) == journal_bytes_ && status.st_nlink > 0;
}

void SinkOffsetFile::save_snapshot(const PartitionContinuity::State& state) {
  // Lines of the journal as it is belong to the old snapshot; until the new one has emptied
  // it, nothing is appended.
  journal_ = files::FileHandle();
  const auto generation = generation_ + 1;
  std::string& text = line_;
  text.clear();
  text.reserve(256 + partition_topic_.size() + subscription_.size() +
               state.settled_ranges.size() * 44 + state.recent.size() * 42 +
               (state.unconfirmed_reports.size() + state.suspected.size()) * 44);
  TextWriter out{text};
  const auto json_pairs = [&](const auto& entries, auto first, auto second) {
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
  const auto json_ranges = [&](const auto& ranges) {
    json_pairs(
        ranges, [&](const auto& r) { out.number(r.first); },
        [&](const auto& r) { out.number(r.second); });
  };
  text += "{\"format\":";
  out.number(kFormat);
  text += ",\"topic\":";
  text += nlohmann::json(partition_topic_).dump();
  text += ",\"subscription\":";
  text += nlohmann::json(subscription_).dump();
  text += ",\"journal\":\"";
  out.hex16(generation);
  text += "\",\"next_expected\":";
  if (state.next_expected) {
    out.number(*state.next_expected);
  } else {
    text += "null";
  }
  text += ",\"settled_below\":";
  out.number(state.settled_below);
  text += ",\"settled_ranges\":[";
  json_ranges(state.settled_ranges);
  text += "],\"recent\":[";
  json_pairs(
      state.recent, [&](const auto& r) { out.number(r.first); },
      [&](const auto& r) {
        text += '"';
        out.hex16(r.second);
        text += '"';
      });
  text += "],\"unconfirmed_reports\":[";
  json_pairs(
      state.unconfirmed_reports, [&](const OffsetGap& gap) { out.number(gap.first); },
      [&](const OffsetGap& gap) { out.number(gap.last); });
  text += "],\"suspected\":[";
  json_ranges(state.suspected);
  text += "],\"newest_publish_time\":";
  out.number(state.newest_publish_time);
  text += "}\n";

  try {
    files::write_file_atomically(file_, text, /*durable=*/false);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("sink offsets file " + file_.string() + ": " + e.what());
  }
  generation_ = generation;
  files::FileHandle journal(
      ::open(journal_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (!journal) {
    throw std::runtime_error("sink offsets journal " + journal_file_.string() +
                             ": cannot open: " + std::strerror(errno));
  }
  journal_ = std::move(journal);
  journal_bytes_ = 0;
}

void SinkOffsetFile::append_journal_line(const PartitionContinuity::State& state,
                                         const PartitionContinuity::RecordedIdentities& recorded) {
  std::string& line = line_;
  line.clear();
  TextWriter out{line};
  out.hex16(generation_);
  line += ' ';
  if (state.next_expected) {
    out.number(*state.next_expected);
  } else {
    line += '-';
  }
  for (const auto value : {state.settled_below, state.newest_publish_time}) {
    line += ' ';
    out.number(value);
  }
  const auto pairs = [&](std::size_t count, const auto& entries, auto first, auto second) {
    line += ' ';
    out.number(count);
    for (const auto& entry : entries) {
      line += ' ';
      first(entry);
      line += ' ';
      second(entry);
    }
  };
  const auto ranges = [&](const auto& entries) {
    pairs(
        entries.size(), entries, [&](const auto& r) { out.number(r.first); },
        [&](const auto& r) { out.number(r.second); });
  };
  ranges(state.settled_ranges);
  ranges(state.suspected);
  pairs(
      state.unconfirmed_reports.size(), state.unconfirmed_reports,
      [&](const OffsetGap& gap) { out.number(gap.first); },
      [&](const OffsetGap& gap) { out.number(gap.last); });
  pairs(
      recorded.size(), recorded, [&](const auto& r) { out.number(r.first); },
      [&](const auto& r) { out.hex16(r.second); });
  const auto checksum = client::fnv1a_64(line);
  line += ' ';
  out.hex16(checksum);
  line += '\n';
  if (const int failure = files::write_fully(journal_.get(), line)) {
    throw std::runtime_error("sink offsets journal " + journal_file_.string() +
                             ": cannot write: " + std::strerror(failure));
  }
  journal_bytes_ += line.size();
}

void SinkOffsetFile::remove() {
  journal_ = files::FileHandle();
  std::error_code ignored;
  std::filesystem::remove(file_, ignored);
  std::filesystem::remove(journal_file_, ignored);
}

}  // namespace danube::runtime
