#pragma once

// Turns records into request bodies in a route's body format, and splits the records of one
// partition into requests that respect the route's batch limits.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "danube/connect/sink_record.hpp"
#include "http_sink_settings.hpp"

namespace danube::sink_http {

// One record as it goes into a body: its payload unchanged (single), or its JSON value as
// compact text (json_array, ndjson). Throws ConnectorError(invalid_data) when a batched format
// gets a record that is not JSON; the record then goes to the dead-letter topic alone.
std::string encode_record(BodyFormat format, const connect::SinkRecord& record);

// The body of a request holding `elements` (encoded records, in order).
std::string join_body(BodyFormat format, std::span<const std::string_view> elements);

// Groups consecutive records (given by the sizes of their encoded forms) into requests: one
// per record for `single`, else up to max_batch_records and max_batch_bytes each (a record
// larger than max_batch_bytes travels alone). Returns the record count of each request.
std::vector<std::size_t> chunk_sizes(const Route& route,
                                     std::span<const std::size_t> element_bytes);

}  // namespace danube::sink_http
