#pragma once

// How the Danube connectors turn an external system's bytes into a record, so that consumers of
// our binaries see what consumers of the Rust connectors see.
#include <string>
#include <string_view>

#include "danube/connect/source_record.hpp"

namespace danube::connectors {

// JSON when `bytes` parse as one JSON value (published as compact JSON); anything else as
// {"data": "<base64>", "size": <bytes>, "encoding": "base64"}, so a JSON consumer can always
// read it and nothing is lost.
connect::SourceRecord json_or_base64_record(std::string topic, std::string_view bytes);

}  // namespace danube::connectors
