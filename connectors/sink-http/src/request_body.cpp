#include "request_body.hpp"

namespace danube::sink_http {

std::string encode_record(BodyFormat format, const connect::SinkRecord& record) {
  if (format == BodyFormat::single) return std::string(record.payload().view());
  // as_json() also returns a schema-decoded value (Avro, Protobuf), so such records become
  // JSON too; replace keeps one bad byte in a decoded string from failing the record.
  return record.as_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string join_body(BodyFormat format, std::span<const std::string_view> elements) {
  std::size_t size = 2;
  for (const auto element : elements)
    size += element.size() + 1;
  std::string body;
  body.reserve(size);
  switch (format) {
    case BodyFormat::single:
      for (const auto element : elements)
        body += element;
      break;
    case BodyFormat::json_array:
      body += '[';
      for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) body += ',';
        body += elements[i];
      }
      body += ']';
      break;
    case BodyFormat::ndjson:
      for (const auto element : elements) {
        body += element;
        body += '\n';
      }
      break;
  }
  return body;
}

std::vector<std::size_t> chunk_sizes(const Route& route,
                                     std::span<const std::size_t> element_bytes) {
  std::vector<std::size_t> chunks;
  if (route.body_format == BodyFormat::single) {
    chunks.assign(element_bytes.size(), 1);
    return chunks;
  }
  std::size_t records = 0;
  std::size_t bytes = 0;
  for (const std::size_t element : element_bytes) {
    const bool full = records == route.max_batch_records ||
                      (records > 0 && bytes + element + 1 > route.max_batch_bytes);
    if (full) {
      chunks.push_back(records);
      records = 0;
      bytes = 0;
    }
    ++records;
    bytes += element + 1;  // the separator
  }
  if (records > 0) chunks.push_back(records);
  return chunks;
}

}  // namespace danube::sink_http
