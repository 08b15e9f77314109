#include "payload_rule.hpp"

#include <nlohmann/json.hpp>

#include "danube/connect/error.hpp"
#include "danube/connect/serialization.hpp"

namespace danube::connectors {

connect::SourceRecord json_or_base64_record(std::string topic, std::string_view bytes) {
  auto value = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!value.is_discarded()) {
    try {
      return connect::SourceRecord::from_json(std::move(topic), value);
    } catch (const connect::ConnectorError&) {
      // Parsed but cannot be written back (invalid UTF-8 in a string): keep the bytes as they are.
    }
  }
  return connect::SourceRecord::from_json(
      std::move(topic), nlohmann::json{{"data", connect::serialization::base64_encode(bytes)},
                                       {"size", bytes.size()},
                                       {"encoding", "base64"}});
}

}  // namespace danube::connectors
