#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "danube/connect/error.hpp"

namespace danube::connect {

// What `SinkConnector::process_batch` reports: one outcome per record, in the order the records
// were given. A failed record carries the error that decides its fate (retryable records are
// retried on their own, invalid_data goes to the dead-letter route, ...), so one bad record
// neither fails nor replays the whole batch.
class BatchResult {
 public:
  // `record_count` records, all successful.
  explicit BatchResult(std::size_t record_count)
      : outcomes_(record_count), deferred_(record_count, false) {}

  static BatchResult all_ok(std::size_t record_count) { return BatchResult(record_count); }
  static BatchResult all_failed(std::size_t record_count, const ConnectorError& error);

  // Marks record `index` as failed (a later call for the same index replaces the error or a
  // deferral).
  // Throws std::out_of_range for an index past the end.
  void fail(std::size_t index, ConnectorError error);
  // Marks record `index` as successful again.
  void succeed(std::size_t index);
  // Marks record `index` as not attempted: the runtime hands it over again later, after the
  // earlier records of its partition that are waiting for a retry, so it cannot overtake them.
  // Use it for the records after a retryable failure of the same partition.
  void defer(std::size_t index);

  std::size_t size() const { return outcomes_.size(); }
  bool ok(std::size_t index) const { return !outcomes_.at(index).has_value() && !deferred_.at(index); }
  bool deferred(std::size_t index) const { return deferred_.at(index); }
  // nullptr when the record succeeded.
  const ConnectorError* error(std::size_t index) const;

  bool all_succeeded() const { return failure_count() == 0; }
  std::size_t failure_count() const;
  // Indices of the failed records, ascending.
  std::vector<std::size_t> failed_indices() const;
  std::size_t deferred_count() const;

 private:
  std::vector<std::optional<ConnectorError>> outcomes_;
  std::vector<bool> deferred_;
};

}  // namespace danube::connect
