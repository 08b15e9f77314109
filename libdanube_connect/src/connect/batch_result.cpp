#include "danube/connect/batch_result.hpp"

#include <stdexcept>
#include <string>

namespace danube::connect {

BatchResult BatchResult::all_failed(std::size_t record_count, const ConnectorError& error) {
  BatchResult result(record_count);
  for (auto& outcome : result.outcomes_)
    outcome = error;
  return result;
}

void BatchResult::fail(std::size_t index, ConnectorError error) {
  if (index >= outcomes_.size()) {
    throw std::out_of_range("BatchResult::fail: index " + std::to_string(index) +
                            " is past the batch of " + std::to_string(outcomes_.size()));
  }
  outcomes_[index] = std::move(error);
  deferred_[index] = false;
}

void BatchResult::succeed(std::size_t index) {
  outcomes_.at(index).reset();
  deferred_.at(index) = false;
}

void BatchResult::defer(std::size_t index) {
  outcomes_.at(index).reset();
  deferred_.at(index) = true;
}

std::size_t BatchResult::deferred_count() const {
  std::size_t count = 0;
  for (const bool deferred : deferred_) count += deferred ? 1 : 0;
  return count;
}

const ConnectorError* BatchResult::error(std::size_t index) const {
  const auto& outcome = outcomes_.at(index);
  return outcome ? &*outcome : nullptr;
}

std::size_t BatchResult::failure_count() const {
  std::size_t count = 0;
  for (const auto& outcome : outcomes_)
    count += outcome.has_value() ? 1 : 0;
  return count;
}

std::vector<std::size_t> BatchResult::failed_indices() const {
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    if (outcomes_[i]) indices.push_back(i);
  }
  return indices;
}

}  // namespace danube::connect
