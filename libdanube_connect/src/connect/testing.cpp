#include "danube/connect/testing.hpp"

#include <atomic>
#include <iostream>

#include "danube/connect/error.hpp"

namespace danube::connect::testing {

namespace {

class InMemoryCounter final : public Counter {
 public:
  void increment(double amount) override {
    if (amount < 0) throw ConnectorError::fatal("a counter cannot decrease");
    value_.fetch_add(amount, std::memory_order_relaxed);
  }
  double value() const override { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class InMemoryGauge final : public Gauge {
 public:
  void set(double value) override { value_.store(value, std::memory_order_relaxed); }
  void increment(double amount) override { value_.fetch_add(amount, std::memory_order_relaxed); }
  void decrement(double amount) override { value_.fetch_sub(amount, std::memory_order_relaxed); }
  double value() const override { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class InMemoryHistogram final : public Histogram {
 public:
  void observe(double value) override {
    const std::lock_guard lock(mutex_);
    ++count_;
    sum_ += value;
  }
  std::uint64_t count() const override {
    const std::lock_guard lock(mutex_);
    return count_;
  }
  double sum() const override {
    const std::lock_guard lock(mutex_);
    return sum_;
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t count_ = 0;
  double sum_ = 0.0;
};

}  // namespace

bool StderrLogger::enabled(LogLevel level) const {
  return level != LogLevel::off && level >= threshold_;
}

void StderrLogger::write(LogLevel level, std::string_view event, std::span<const LogField> fields) {
  const std::string line = format_log_line(event, fields);
  const std::lock_guard lock(mutex_);
  std::cerr << to_string(level) << ' ' << line << '\n';
}

void RecordingLogger::write(LogLevel level, std::string_view event,
                            std::span<const LogField> fields) {
  Line line{level, format_log_line(event, fields)};
  const std::lock_guard lock(mutex_);
  lines_.push_back(std::move(line));
}

std::vector<RecordingLogger::Line> RecordingLogger::lines() const {
  const std::lock_guard lock(mutex_);
  return lines_;
}

struct InMemoryMetrics::Series {
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
};

InMemoryMetrics::InMemoryMetrics() = default;
InMemoryMetrics::~InMemoryMetrics() = default;

namespace {

// Registers `name` as `kind`, or checks it was registered as that kind before.
template <class Kind>
void claim_kind(std::map<std::string, Kind, std::less<>>& kinds, std::string_view name, Kind kind) {
  const auto [it, inserted] = kinds.try_emplace(std::string(name), kind);
  if (!inserted && it->second != kind) {
    throw ConnectorError::fatal("metric '" + std::string(name) +
                                "' is already registered as another kind of metric");
  }
}

}  // namespace

Counter& InMemoryMetrics::counter(std::string_view name, std::string_view,
                                  const MetricLabels& labels) {
  validate_metric_name(name);
  validate_metric_labels(labels);
  const std::lock_guard lock(mutex_);
  claim_kind(kinds_, name, Kind::counter);
  auto& series = series_[{std::string(name), labels}];
  if (!series)
    series = std::make_unique<Series>(Series{std::make_unique<InMemoryCounter>(), {}, {}});
  return *series->counter;
}

Gauge& InMemoryMetrics::gauge(std::string_view name, std::string_view, const MetricLabels& labels) {
  validate_metric_name(name);
  validate_metric_labels(labels);
  const std::lock_guard lock(mutex_);
  claim_kind(kinds_, name, Kind::gauge);
  auto& series = series_[{std::string(name), labels}];
  if (!series) series = std::make_unique<Series>(Series{{}, std::make_unique<InMemoryGauge>(), {}});
  return *series->gauge;
}

Histogram& InMemoryMetrics::histogram(std::string_view name, std::string_view,
                                      const std::vector<double>& bucket_bounds,
                                      const MetricLabels& labels) {
  validate_metric_name(name);
  validate_metric_labels(labels);
  validate_bucket_bounds(bucket_bounds);
  const std::lock_guard lock(mutex_);
  claim_kind(kinds_, name, Kind::histogram);
  auto& series = series_[{std::string(name), labels}];
  if (!series) {
    series = std::make_unique<Series>(Series{{}, {}, std::make_unique<InMemoryHistogram>()});
  }
  return *series->histogram;
}

SendStatus RecordingSourceChannel::send(SourceEnvelope envelope) {
  {
    const std::lock_guard lock(mutex_);
    if (closed_) return SendStatus::closed;
    envelopes_.push_back(std::move(envelope));
  }
  arrived_.notify_all();
  return SendStatus::sent;
}

SendStatus RecordingSourceChannel::send_for(SourceEnvelope envelope, std::chrono::milliseconds) {
  return send(std::move(envelope));
}

bool RecordingSourceChannel::is_closed() const {
  const std::lock_guard lock(mutex_);
  return closed_;
}

void RecordingSourceChannel::close() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  arrived_.notify_all();
}

std::vector<SourceEnvelope> RecordingSourceChannel::wait_for(
    std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, timeout, [&] { return envelopes_.size() >= count; });
  return envelopes_;
}

std::vector<SourceEnvelope> RecordingSourceChannel::received() const {
  const std::lock_guard lock(mutex_);
  return envelopes_;
}

}  // namespace danube::connect::testing
