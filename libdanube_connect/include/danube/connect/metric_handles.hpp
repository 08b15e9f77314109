#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace danube::connect {

// Labels of one series, beside the `connector` label the runtime adds.
using MetricLabels = std::map<std::string, std::string, std::less<>>;

// Handles to a connector's own metrics. They stay valid as long as the Metrics that made
// them; updating them is thread-safe and cheap (no lookup).
class Counter {
 public:
  virtual ~Counter() = default;
  virtual void increment(double amount = 1.0) = 0;  // amount >= 0
  virtual double value() const = 0;
};

class Gauge {
 public:
  virtual ~Gauge() = default;
  virtual void set(double value) = 0;
  virtual void increment(double amount = 1.0) = 0;
  virtual void decrement(double amount = 1.0) = 0;
  virtual double value() const = 0;
};

class Histogram {
 public:
  virtual ~Histogram() = default;
  virtual void observe(double value) = 0;
  virtual std::uint64_t count() const = 0;
  virtual double sum() const = 0;
};

// The connector's own metrics (ConnectorContext::metrics()). The runtime exports them on
// /metrics next to its `danube_connector_*` metrics, with a `connector` label.
//
// Asking twice for the same name and labels returns the same handle. Throws
// ConnectorError(fatal) for a name or label that Prometheus would refuse, a name starting with
// `danube_connector_` (the runtime's), a label named `connector`, a name already used by
// another kind of metric, or histogram bounds that are not strictly increasing.
class Metrics {
 public:
  virtual ~Metrics() = default;

  virtual Counter& counter(std::string_view name, std::string_view help,
                           const MetricLabels& labels = {}) = 0;
  virtual Gauge& gauge(std::string_view name, std::string_view help,
                       const MetricLabels& labels = {}) = 0;
  virtual Histogram& histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& bucket_bounds,
                               const MetricLabels& labels = {}) = 0;
};

// The checks every Metrics implementation applies (see Metrics); throws ConnectorError(fatal).
void validate_metric_name(std::string_view name);
void validate_metric_labels(const MetricLabels& labels);
void validate_bucket_bounds(const std::vector<double>& bucket_bounds);

}  // namespace danube::connect
