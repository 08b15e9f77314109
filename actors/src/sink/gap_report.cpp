#include "gap_report.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

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

// One write() of a whole line with O_APPEND: the consumers of several partitions append to the
// same file without interleaving.
void append_line(const std::filesystem::path& file, const std::string& line) {
  std::error_code error;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), error);
  const files::FileHandle handle(
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!handle) {
    spdlog::error("event=gap_file_error file={} error=\"{}\"", file.string(), std::strerror(errno));
    return;
  }
  if (const int failure = files::write_fully(handle.get(), line)) {
    spdlog::error("event=gap_file_error file={} error=\"{}\"", file.string(),
                  std::strerror(failure));
  }
}

}  // namespace

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
  append_line(context.config.gap_file(),
              line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

bool gap_file_holds(const std::filesystem::path& gap_file, const GapReport& report) {
  std::optional<std::string> text;
  try {
    text = files::read_whole_file(gap_file);
  } catch (const std::exception& e) {
    spdlog::error("event=gap_file_error file={} error=\"{}\"", gap_file.string(), e.what());
    return false;
  }
  if (!text) return false;
  std::string_view rest = *text;
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

}  // namespace danube::runtime
