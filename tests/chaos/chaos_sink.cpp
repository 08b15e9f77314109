// chaos_sink: a test-only sink for the chaos suite. It appends every payload as one line to
// its output file and makes the batch durable (one write, then fdatasync) before
// process_batch returns, so a SIGKILL can only lose records the runtime has not acked yet —
// and those the broker redelivers.
//
// A SIGKILL in the middle of the write can leave a torn last line; the next incarnation ends
// it with a newline before appending, so the torn record stays one malformed line of its own
// (the test counts it as torn, never as a record) and cannot run into the next record.
//
// Configuration: the usual connector TOML (CONNECTOR_CONFIG_PATH) plus a [chaos_sink] table:
//   topic = "/default/chaos"
//   subscription = "chaos-sub"
//   consumer_name = "chaos-sink-consumer"
//   subscription_type = "Exclusive"        Exclusive, Shared, Failover or KeyShared
//   output_file = "/path/records.txt"      required
//   record_delay_us = 0                    a slow connector: this long per record, per batch
//   fdatasync = true                       false: write without syncing (benchmarks that measure
//                                          the pipeline, not the disk; a SIGKILL may then lose
//                                          acked records)
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "danube/connect/connect.hpp"
#include "danube/runtime/run.hpp"

namespace {

using namespace danube::connect;

// Owns a file descriptor.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

ConnectorError io_error(const std::string& what, const std::string& path) {
  return ConnectorError::io(what + " " + path + ": " + std::strerror(errno));
}

class ChaosSink : public SinkConnector {
 public:
  void initialize(const ConnectorContext& context) override {
    const ConfigSection settings = context.config().section("chaos_sink");
    settings.reject_unknown_keys({"topic", "subscription", "consumer_name", "subscription_type",
                                  "output_file", "record_delay_us", "fdatasync"});
    subscription_.topic = settings.get_string("topic", "/default/chaos");
    subscription_.subscription = settings.get_string("subscription", "chaos-sub");
    subscription_.consumer_name = settings.get_string("consumer_name", "chaos-sink-consumer");
    const auto type =
        parse_subscription_type(settings.get_string("subscription_type", "Exclusive"));
    if (!type)
      settings.fail("subscription_type", "must be Exclusive, Shared, Failover or KeyShared");
    subscription_.subscription_type = *type;
    record_delay_ =
        std::chrono::microseconds(settings.get_integer("record_delay_us", 0, 0, 1'000'000));
    sync_ = settings.get_bool("fdatasync", true);
    path_ = settings.get_string("output_file", "");
    if (path_.empty()) settings.fail("output_file", "is required");
    output_ =
        FileDescriptor(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!output_) throw io_error("cannot open", path_);
    end_torn_line();
    spdlog::info("event=chaos_sink_ready output_file={} torn_line_repaired={}", path_,
                 repaired_torn_line_);
  }

  std::vector<ConsumerConfig> consumer_configs() override { return {subscription_}; }

  BatchResult process_batch(std::span<const SinkRecord> records) override {
    if (record_delay_.count() > 0) {
      std::this_thread::sleep_for(record_delay_ * static_cast<std::int64_t>(records.size()));
    }
    buffer_.clear();
    for (const auto& record : records) {
      buffer_.append(record.payload().view());
      buffer_.push_back('\n');
    }
    write_all(buffer_);
    if (sync_ && ::fdatasync(output_.get()) != 0) throw io_error("cannot fdatasync", path_);
    written_ += records.size();
    return BatchResult::all_ok(records.size());
  }

  void shutdown() override {
    spdlog::info("event=chaos_sink_done written={} output_file={}", written_, path_);
  }

 private:
  // A previous incarnation killed in the middle of a write may have left a line without its
  // newline: end it, so the torn record is a line of its own.
  void end_torn_line() {
    const FileDescriptor reader(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!reader) throw io_error("cannot read", path_);
    const off_t size = ::lseek(reader.get(), 0, SEEK_END);
    if (size <= 0) return;
    char last = '\n';
    if (::pread(reader.get(), &last, 1, size - 1) != 1) throw io_error("cannot read", path_);
    if (last == '\n') return;
    write_all("\n");
    if (::fdatasync(output_.get()) != 0) throw io_error("cannot fdatasync", path_);
    repaired_torn_line_ = true;
  }

  void write_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t written = ::write(output_.get(), data.data(), data.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        throw io_error("cannot write", path_);
      }
      data.remove_prefix(static_cast<std::size_t>(written));
    }
  }

  ConsumerConfig subscription_;
  std::chrono::microseconds record_delay_{0};
  bool sync_ = true;
  std::string path_;
  FileDescriptor output_;
  std::string buffer_;
  std::uint64_t written_ = 0;
  bool repaired_torn_line_ = false;
};

}  // namespace

int main() {
  danube::runtime::RunOptions options;
  options.sections = {"chaos_sink"};
  return danube::runtime::run_sink(std::make_unique<ChaosSink>(), options);
}
