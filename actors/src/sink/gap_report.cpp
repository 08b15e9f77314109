#include "gap_report.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "danube/common/files.hpp"
#include "danube/common/json_nesting.hpp"

namespace danube::runtime {
namespace {

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[96];  // room for any int the compiler imagines
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(millis));
  return text;
}

void log_gap_file_error(const std::filesystem::path& file, std::string_view what, int error) {
  spdlog::error("event=gap_file_error file={} action=\"{}\" error=\"{}\"", file.string(), what,
                std::strerror(error));
}

std::filesystem::path rotated_copy(const std::filesystem::path& gap_file, std::uint64_t number) {
  auto copy = gap_file;
  copy += "." + std::to_string(number);
  return copy;
}

// The number n of a rotated copy `<gap file name>.<n>`, or nullopt for any other name.
std::optional<std::uint64_t> rotation_number(const std::string& gap_file_name,
                                             const std::string& name) {
  if (name.size() <= gap_file_name.size() + 1 ||
      name.compare(0, gap_file_name.size(), gap_file_name) != 0 ||
      name[gap_file_name.size()] != '.') {
    return std::nullopt;
  }
  const std::string_view digits = std::string_view(name).substr(gap_file_name.size() + 1);
  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (error != std::errc() || end != digits.data() + digits.size() || number == 0) {
    return std::nullopt;
  }
  return number;
}

// The rotated copies that exist, by number.
std::vector<std::pair<std::uint64_t, std::filesystem::path>> rotated_copies(
    const std::filesystem::path& gap_file) {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> copies;
  const auto directory =
      gap_file.has_parent_path() ? gap_file.parent_path() : std::filesystem::path(".");
  const std::string name = gap_file.filename().string();
  std::error_code error;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    if (const auto number = rotation_number(name, it->path().filename().string())) {
      copies.emplace_back(*number, it->path());
    }
  }
  std::sort(copies.begin(), copies.end());
  return copies;
}

// An flock on `<gap file>.lock`, released when it goes out of scope. Locking the gap file
// itself would not do: a rotation renames it, and a writer waiting on the old inode would then
// append to a rotated copy.
class GapFileLock {
 public:
  GapFileLock(const std::filesystem::path& gap_file, int operation) {
    auto lock_file = gap_file;
    lock_file += ".lock";
    handle_ = files::FileHandle(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!handle_) {
      log_gap_file_error(lock_file, "open lock", errno);
      return;
    }
    while (::flock(handle_.get(), operation) != 0) {
      if (errno == EINTR) continue;
      log_gap_file_error(lock_file, "lock", errno);
      handle_ = files::FileHandle();
      return;
    }
  }
  explicit operator bool() const { return static_cast<bool>(handle_); }

 private:
  files::FileHandle handle_;  // closing it releases the lock
};

// Renames `gap_file` to `.1` after shifting the copies up to `.keep`, and removes copies
// numbered above `keep` (left by a larger keep earlier). Each step is one rename, so a crash in
// the middle loses nothing beyond the oldest copy; the next rotation goes on from there.
void rotate(const std::filesystem::path& gap_file, std::uint32_t keep) {
  for (std::uint64_t number = keep; number > 1; --number) {
    if (::rename(rotated_copy(gap_file, number - 1).c_str(),
                 rotated_copy(gap_file, number).c_str()) != 0 &&
        errno != ENOENT) {
      log_gap_file_error(rotated_copy(gap_file, number - 1), "rotate", errno);
      return;  // keep what is there rather than overwrite a copy that did not move
    }
  }
  if (::rename(gap_file.c_str(), rotated_copy(gap_file, 1).c_str()) != 0) {
    log_gap_file_error(gap_file, "rotate", errno);
    return;
  }
  for (const auto& [number, copy] : rotated_copies(gap_file)) {
    std::error_code ignored;
    if (number > keep) std::filesystem::remove(copy, ignored);
  }
  spdlog::info("event=gap_file_rotated file={} kept={}", gap_file.string(), keep);
}

}  // namespace

void append_to_gap_file(const std::filesystem::path& gap_file, const std::string& line,
                        const GapFileLimits& limits) {
  std::error_code error;
  if (gap_file.has_parent_path())
    std::filesystem::create_directories(gap_file.parent_path(), error);
  const GapFileLock lock(gap_file, LOCK_EX);
  // Without the lock the line is still written: one write() with O_APPEND does not interleave
  // with other writers, and a lost report is worse than a file left unrotated.
  const files::FileHandle handle(
      ::open(gap_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!handle) {
    log_gap_file_error(gap_file, "open", errno);
    return;
  }
  if (const int failure = files::write_fully(handle.get(), line)) {
    log_gap_file_error(gap_file, "write", failure);
    return;
  }
  struct stat status {};
  if (!lock || ::fstat(handle.get(), &status) != 0) return;
  if (static_cast<std::uint64_t>(status.st_size) >= limits.max_bytes) {
    rotate(gap_file, std::max<std::uint32_t>(limits.keep, 1));
  }
}

std::vector<std::filesystem::path> gap_file_set(const std::filesystem::path& gap_file) {
  std::vector<std::filesystem::path> set;
  std::error_code error;
  if (std::filesystem::exists(gap_file, error)) set.push_back(gap_file);
  for (const auto& [number, copy] : rotated_copies(gap_file))
    set.push_back(copy);
  return set;
}

void report_gap(const RuntimeContext& context, const GapReport& report) {
  const auto count = report.gap.count();
  spdlog::error(
      "event=messages_lost connector={} topic={} partition={} subscription={} first_offset={} "
      "last_offset={} count={} detected_at={} reason=\"the broker skipped these offsets; they "
      "were never delivered\"",
      context.config.connector_name, report.topic, report.partition_topic, report.subscription,
      report.gap.first, report.gap.last, count, report.detected_at);
  context.metrics->record_lost(report.topic, count);
  context.counters->add(context.counters->lost, count);
  context.health->record_loss(
      count, std::to_string(count) + " messages lost on " + report.partition_topic + " (offsets " +
                 std::to_string(report.gap.first) + ".." + std::to_string(report.gap.last) + ")");
  const nlohmann::json line{{"time", utc_now()},
                            {"connector", context.config.connector_name},
                            {"topic", report.topic},
                            {"partition", report.partition_topic},
                            {"subscription", report.subscription},
                            {"first_offset", report.gap.first},
                            {"last_offset", report.gap.last},
                            {"count", count},
                            {"detected_at_offset", report.detected_at}};
  append_to_gap_file(context.config.gap_file(),
                     line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                     GapFileLimits{context.config.delivery.gap_file_max_bytes,
                                   context.config.delivery.gap_file_keep});
}

namespace {

// Whether the lines in `text` hold `report`'s gap.
bool text_holds(std::string_view rest, const GapReport& report) {
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (line.empty() || json_nesting_exceeds_limit(line)) continue;
    const auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!entry.is_object()) continue;
    const auto number = [&entry](const char* key) {
      const auto found = entry.find(key);
      return found != entry.end() && found->is_number_unsigned()
                 ? std::optional(found->get<std::uint64_t>())
                 : std::nullopt;
    };
    const auto text_of = [&entry](const char* key) {
      const auto found = entry.find(key);
      return found != entry.end() && found->is_string() ? std::optional(found->get<std::string>())
                                                        : std::nullopt;
    };
    if (text_of("partition") == report.partition_topic &&
        text_of("subscription") == report.subscription &&
        number("first_offset") == report.gap.first && number("last_offset") == report.gap.last) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool gap_file_holds(const std::filesystem::path& gap_file, const GapReport& report) {
  // The report was written, if at all, by an earlier run: no file now, none with it.
  if (gap_file_set(gap_file).empty()) return false;
  // Shared: no rotation moves a line from one file to another while they are read.
  const GapFileLock lock(gap_file, LOCK_SH);
  for (const auto& file : gap_file_set(gap_file)) {
    std::optional<std::string> text;
    try {
      text = files::read_whole_file(file);
    } catch (const std::exception& e) {
      spdlog::error("event=gap_file_error file={} error=\"{}\"", file.string(), e.what());
      continue;
    }
    if (text && text_holds(*text, report)) return true;
  }
  return false;
}

}  // namespace danube::runtime
