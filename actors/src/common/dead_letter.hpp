#pragma once

#include <string>

#include "../sink/inflight_record.hpp"
#include "../source/source_item.hpp"
#include "danube/client/message.hpp"
#include "danube/connect/error.hpp"

namespace danube::runtime {

// A failed sink record as a dead-letter message: original payload, key and attributes plus
// the dlq.* attributes (connect/dead_letter.hpp).
client::OutgoingMessage dead_letter_message(const InflightRecord& record,
                                            const connect::ConnectorError& error,
                                            const std::string& connector_name);

// The same for a source record that could not be published to `topic`.
client::OutgoingMessage dead_letter_message(const SourceItem& item, const std::string& topic,
                                            const std::string& payload,
                                            const connect::ConnectorError& error,
                                            const std::string& connector_name);

}  // namespace danube::runtime
