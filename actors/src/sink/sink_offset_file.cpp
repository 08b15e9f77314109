#include "sink_offset_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "danube/common/json_nesting.hpp"
#include "danube/connect/offset_store.hpp"

namespace danube::runtime {
namespace {

constexpr int kFormat = 1;
constexpr std::uintmax_t kMaxFileBytes = 16 * 1024 * 1024;

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
  if (state.recent.size() > PartitionContinuity::kRecentIdentities ||
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

[[noreturn]] void io_failure(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error("sink offsets file " + file.string() + ": " + what + ": " +
                           std::strerror(errno));
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

SinkOffsetFile::SinkOffsetFile(const std::filesystem::path& state_dir,
                               const std::string& connector_name,
                               const std::string& partition_topic, const std::string& subscription)
    : file_(state_dir / (connect::safe_file_name(connector_name) + ".sink." +
                         connect::safe_file_name(partition_topic) + "." +
                         connect::safe_file_name(subscription) + "." +
                         name_digest(partition_topic, subscription) + ".json")),
      partition_topic_(partition_topic),
      subscription_(subscription) {}

std::optional<PartitionContinuity::State> SinkOffsetFile::load(std::string& problem) const {
  std::error_code error;
  if (!std::filesystem::exists(file_, error)) return std::nullopt;
  try {
    const auto size = std::filesystem::file_size(file_);
    if (size > kMaxFileBytes) throw std::invalid_argument("too large");
    std::ifstream in(file_, std::ios::binary);
    if (!in) throw std::invalid_argument(std::string("cannot open: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), partition_topic_, subscription_);
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
  // 512 identities each time cost a tenth of its throughput. nlohmann::json still reads it.
  std::string text;
  text.reserve(256 + state.settled_ranges.size() * 24 + state.recent.size() * 40);
  auto out = std::back_inserter(text);
  fmt::format_to(out,
                 "{{\"format\":{},\"topic\":{},\"subscription\":{},\"next_expected\":", kFormat,
                 nlohmann::json(partition_topic_).dump(), nlohmann::json(subscription_).dump());
  if (state.next_expected) {
    fmt::format_to(out, "{}", *state.next_expected);
  } else {
    text += "null";
  }
  fmt::format_to(out, ",\"settled_below\":{},\"settled_ranges\":[", state.settled_below);
  const char* separator = "";
  for (const auto& [first, end] : state.settled_ranges) {
    fmt::format_to(out, "{}[{},{}]", separator, first, end);
    separator = ",";
  }
  text += "],\"recent\":[";
  separator = "";
  for (const auto& [offset, digest] : state.recent) {
    fmt::format_to(out, "{}[{},\"{:016x}\"]", separator, offset, digest);
    separator = ",";
  }
  fmt::format_to(out, "],\"newest_publish_time\":{}}}\n", state.newest_publish_time);

  std::error_code error;
  std::filesystem::create_directories(file_.parent_path(), error);
  if (error) {
    throw std::runtime_error("sink offsets file " + file_.string() + ": cannot create " +
                             file_.parent_path().string() + ": " + error.message());
  }
  const auto temporary = std::filesystem::path(file_.string() + ".tmp");
  {
    FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) io_failure(temporary, "cannot create");
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        io_failure(temporary, "write failed");
      }
      written += static_cast<std::size_t>(n);
    }
    if (::close(fd.release()) != 0) io_failure(temporary, "close failed");
  }
  if (::rename(temporary.c_str(), file_.c_str()) != 0) io_failure(file_, "rename failed");
}

}  // namespace danube::runtime
