#pragma once

// Stand-ins for the runtime's services, for a connector's tests and tools: a logger that
// records or prints, metrics kept in memory, and a source channel that collects what a
// streaming source sends.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "danube/connect/logger.hpp"
#include "danube/connect/metric_handles.hpp"
#include "danube/connect/source_sender.hpp"

namespace danube::connect::testing {

// Writes lines at `threshold` and above to stderr: `<level> event=<event> key=value ...`.
class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(LogLevel threshold = LogLevel::info) : threshold_(threshold) {}
  bool enabled(LogLevel level) const override;
  void write(LogLevel level, std::string_view event, std::span<const LogField> fields) override;

 private:
  LogLevel threshold_;
  std::mutex mutex_;
};

// Keeps every line (all levels) for assertions.
class RecordingLogger final : public Logger {
 public:
  struct Line {
    LogLevel level;
    std::string text;  // format_log_line(event, fields)
  };

  bool enabled(LogLevel) const override { return true; }
  void write(LogLevel level, std::string_view event, std::span<const LogField> fields) override;
  std::vector<Line> lines() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Line> lines_;
};

// Metrics kept in memory, with the same checks as the runtime's.
class InMemoryMetrics final : public Metrics {
 public:
  InMemoryMetrics();
  ~InMemoryMetrics() override;

  Counter& counter(std::string_view name, std::string_view help,
                   const MetricLabels& labels = {}) override;
  Gauge& gauge(std::string_view name, std::string_view help,
               const MetricLabels& labels = {}) override;
  Histogram& histogram(std::string_view name, std::string_view help,
                       const std::vector<double>& bucket_bounds,
                       const MetricLabels& labels = {}) override;

 private:
  enum class Kind { counter, gauge, histogram };
  struct Series;
  std::mutex mutex_;
  std::map<std::string, Kind, std::less<>> kinds_;
  std::map<std::tuple<std::string, MetricLabels>, std::unique_ptr<Series>> series_;
};

// An unbounded channel that keeps what a streaming source sends, until close().
class RecordingSourceChannel final : public SourceChannel {
 public:
  SendStatus send(SourceEnvelope envelope) override;
  SendStatus send_for(SourceEnvelope envelope, std::chrono::milliseconds timeout) override;
  bool is_closed() const override;

  void close();
  // Waits up to `timeout` until at least `count` envelopes arrived; returns all received so far
  // (and keeps them).
  std::vector<SourceEnvelope> wait_for(std::size_t count, std::chrono::milliseconds timeout) const;
  std::vector<SourceEnvelope> received() const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<SourceEnvelope> envelopes_;
  bool closed_ = false;
};

}  // namespace danube::connect::testing
