#include "gap_report.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

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
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    spdlog::error("event=gap_file_error file={} error=\"{}\"", file.string(), std::strerror(errno));
    return;
  }
  const ssize_t written = ::write(fd, line.data(), line.size());
  if (written != static_cast<ssize_t>(line.size())) {
    spdlog::error("event=gap_file_error file={} error=\"{}\"", file.string(),
                  written < 0 ? std::strerror(errno) : "short write");
  }
  ::close(fd);
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

}  // namespace danube::runtime
