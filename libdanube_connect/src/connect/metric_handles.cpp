#include "danube/connect/metric_handles.hpp"

#include <cctype>

#include "danube/connect/error.hpp"

namespace danube::connect {

namespace {

constexpr std::string_view kRuntimePrefix = "danube_connector_";

bool is_name_start(char c, bool allow_colon) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || (allow_colon && c == ':');
}

bool is_valid_identifier(std::string_view name, bool allow_colon) {
  if (name.empty() || !is_name_start(name.front(), allow_colon)) return false;
  for (char c : name) {
    if (!is_name_start(c, allow_colon) && std::isdigit(static_cast<unsigned char>(c)) == 0)
      return false;
  }
  return true;
}

}  // namespace

void validate_metric_name(std::string_view name) {
  if (!is_valid_identifier(name, true)) {
    throw ConnectorError::fatal("invalid metric name '" + std::string(name) +
                                "': use letters, digits, '_' and ':', not starting with a digit");
  }
  if (name.starts_with(kRuntimePrefix)) {
    throw ConnectorError::fatal("invalid metric name '" + std::string(name) + "': the prefix " +
                                std::string(kRuntimePrefix) + " belongs to the runtime");
  }
}

void validate_metric_labels(const MetricLabels& labels) {
  for (const auto& [name, value] : labels) {
    if (!is_valid_identifier(name, false) || name.starts_with("__")) {
      throw ConnectorError::fatal("invalid metric label name '" + name +
                                  "': use letters, digits and '_', not starting with a digit "
                                  "or '__'");
    }
    if (name == "connector") {
      throw ConnectorError::fatal("metric label 'connector' is added by the runtime");
    }
  }
}

void validate_bucket_bounds(const std::vector<double>& bucket_bounds) {
  for (std::size_t i = 1; i < bucket_bounds.size(); ++i) {
    if (!(bucket_bounds[i - 1] < bucket_bounds[i])) {
      throw ConnectorError::fatal("histogram bucket bounds must be strictly increasing");
    }
  }
}

}  // namespace danube::connect
