// Default behaviour of the connector interfaces.
#include <set>
#include <string_view>

#include "danube/connect/sink_connector.hpp"
#include "danube/connect/source_connector.hpp"

namespace danube::connect {

BatchResult RecordSinkConnector::process_batch(std::span<const SinkRecord> records) {
  BatchResult result(records.size());
  // Partitions with a record waiting for a retry: their later records are not written now, so
  // none overtakes it.
  std::set<std::string_view> waiting_partitions;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (waiting_partitions.count(records[i].partition_topic())) {
      result.defer(i);
      continue;
    }
    try {
      process(records[i]);
    } catch (const ConnectorError& error) {
      result.fail(i, error);
      if (error.is_retryable()) waiting_partitions.insert(records[i].partition_topic());
      // A fatal error stops the connector: do not write further records behind it.
      if (error.is_fatal()) {
        for (std::size_t rest = i + 1; rest < records.size(); ++rest)
          result.fail(rest, error);
        break;
      }
    }
  }
  return result;
}

std::string_view to_string(SourceMode mode) {
  return mode == SourceMode::streaming ? "streaming" : "polling";
}

std::vector<SourceEnvelope> SourceConnector::poll() {
  throw ConnectorError::configuration(
      "this source connector runs in polling mode but does not override poll()");
}

void SourceConnector::start_streaming(SourceSender sender) {
  (void)sender;
  throw ConnectorError::configuration(
      "this source connector runs in streaming mode but does not override start_streaming()");
}

}  // namespace danube::connect
