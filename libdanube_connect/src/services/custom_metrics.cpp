#include "danube/services/custom_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <stdexcept>

#include "danube/connect/error.hpp"

namespace danube::services {

namespace {

class PrometheusCounter final : public connect::Counter {
 public:
  explicit PrometheusCounter(prometheus::Counter& counter) : counter_(counter) {}
  void increment(double amount) override {
    if (amount < 0) throw connect::ConnectorError::fatal("a counter cannot decrease");
    counter_.Increment(amount);
  }
  double value() const override { return counter_.Value(); }

 private:
  prometheus::Counter& counter_;
};

class PrometheusGauge final : public connect::Gauge {
 public:
  explicit PrometheusGauge(prometheus::Gauge& gauge) : gauge_(gauge) {}
  void set(double value) override { gauge_.Set(value); }
  void increment(double amount) override { gauge_.Increment(amount); }
  void decrement(double amount) override { gauge_.Decrement(amount); }
  double value() const override { return gauge_.Value(); }

 private:
  prometheus::Gauge& gauge_;
};

class PrometheusHistogram final : public connect::Histogram {
 public:
  explicit PrometheusHistogram(prometheus::Histogram& histogram) : histogram_(histogram) {}
  void observe(double value) override { histogram_.Observe(value); }
  std::uint64_t count() const override { return histogram_.Collect().histogram.sample_count; }
  double sum() const override { return histogram_.Collect().histogram.sample_sum; }

 private:
  prometheus::Histogram& histogram_;
};

}  // namespace

struct CustomMetrics::Family {
  Kind kind = Kind::counter;
  prometheus::Family<prometheus::Counter>* counters = nullptr;
  prometheus::Family<prometheus::Gauge>* gauges = nullptr;
  prometheus::Family<prometheus::Histogram>* histograms = nullptr;
  std::map<connect::MetricLabels, std::unique_ptr<connect::Counter>> counter_handles;
  std::map<connect::MetricLabels, std::unique_ptr<connect::Gauge>> gauge_handles;
  std::map<connect::MetricLabels, std::unique_ptr<connect::Histogram>> histogram_handles;
};

CustomMetrics::CustomMetrics(std::shared_ptr<prometheus::Registry> registry,
                             std::string connector_name)
    : registry_(std::move(registry)), connector_(std::move(connector_name)) {}

CustomMetrics::~CustomMetrics() = default;

CustomMetrics::Family& CustomMetrics::family(std::string_view name, std::string_view help,
                                             Kind kind) {
  if (const auto it = families_.find(name); it != families_.end()) {
    if (it->second->kind != kind) {
      throw connect::ConnectorError::fatal("metric '" + std::string(name) +
                                           "' is already registered as another kind of metric");
    }
    return *it->second;
  }
  auto family = std::make_unique<Family>();
  family->kind = kind;
  try {
    const std::string name_text(name);
    const std::string help_text(help);
    if (kind == Kind::counter) {
      family->counters =
          &prometheus::BuildCounter().Name(name_text).Help(help_text).Register(*registry_);
    } else if (kind == Kind::gauge) {
      family->gauges =
          &prometheus::BuildGauge().Name(name_text).Help(help_text).Register(*registry_);
    } else {
      family->histograms =
          &prometheus::BuildHistogram().Name(name_text).Help(help_text).Register(*registry_);
    }
  } catch (const std::invalid_argument& error) {
    // The registry refuses a name another part of the process registered as another kind.
    throw connect::ConnectorError::fatal("metric '" + std::string(name) +
                                         "' cannot be registered: " + error.what());
  }
  return *families_.emplace(std::string(name), std::move(family)).first->second;
}

namespace {

std::map<std::string, std::string> series_labels(const connect::MetricLabels& labels,
                                                 const std::string& connector) {
  std::map<std::string, std::string> all(labels.begin(), labels.end());
  all.emplace("connector", connector);
  return all;
}

}  // namespace

connect::Counter& CustomMetrics::counter(std::string_view name, std::string_view help,
                                         const connect::MetricLabels& labels) {
  connect::validate_metric_name(name);
  connect::validate_metric_labels(labels);
  const std::lock_guard lock(mutex_);
  auto& entry = family(name, help, Kind::counter);
  auto& handle = entry.counter_handles[labels];
  if (!handle) {
    handle =
        std::make_unique<PrometheusCounter>(entry.counters->Add(series_labels(labels, connector_)));
  }
  return *handle;
}

connect::Gauge& CustomMetrics::gauge(std::string_view name, std::string_view help,
                                     const connect::MetricLabels& labels) {
  connect::validate_metric_name(name);
  connect::validate_metric_labels(labels);
  const std::lock_guard lock(mutex_);
  auto& entry = family(name, help, Kind::gauge);
  auto& handle = entry.gauge_handles[labels];
  if (!handle) {
    handle =
        std::make_unique<PrometheusGauge>(entry.gauges->Add(series_labels(labels, connector_)));
  }
  return *handle;
}

connect::Histogram& CustomMetrics::histogram(std::string_view name, std::string_view help,
                                             const std::vector<double>& bucket_bounds,
                                             const connect::MetricLabels& labels) {
  connect::validate_metric_name(name);
  connect::validate_metric_labels(labels);
  connect::validate_bucket_bounds(bucket_bounds);
  const std::lock_guard lock(mutex_);
  auto& entry = family(name, help, Kind::histogram);
  auto& handle = entry.histogram_handles[labels];
  if (!handle) {
    handle = std::make_unique<PrometheusHistogram>(entry.histograms->Add(
        series_labels(labels, connector_), prometheus::Histogram::BucketBoundaries(bucket_bounds)));
  }
  return *handle;
}

}  // namespace danube::services
