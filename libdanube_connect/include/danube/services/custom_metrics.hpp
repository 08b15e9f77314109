#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "danube/connect/metric_handles.hpp"

namespace prometheus {
class Registry;
}

namespace danube::services {

// The connector's own metrics (ConnectorContext::metrics()) on a prometheus registry, each
// series labelled `connector` with the connector's name. Thread-safe.
class CustomMetrics final : public connect::Metrics {
 public:
  CustomMetrics(std::shared_ptr<prometheus::Registry> registry, std::string connector_name);
  ~CustomMetrics() override;
  CustomMetrics(const CustomMetrics&) = delete;
  CustomMetrics& operator=(const CustomMetrics&) = delete;

  connect::Counter& counter(std::string_view name, std::string_view help,
                            const connect::MetricLabels& labels = {}) override;
  connect::Gauge& gauge(std::string_view name, std::string_view help,
                        const connect::MetricLabels& labels = {}) override;
  connect::Histogram& histogram(std::string_view name, std::string_view help,
                                const std::vector<double>& bucket_bounds,
                                const connect::MetricLabels& labels = {}) override;

 private:
  // The family registered under a name, and the handles made from it.
  enum class Kind { counter, gauge, histogram };
  struct Family;
  Family& family(std::string_view name, std::string_view help, Kind kind);

  std::shared_ptr<prometheus::Registry> registry_;
  std::string connector_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace danube::services
