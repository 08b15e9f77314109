#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

#include "danube/connect/error.hpp"
#include "danube/connect/schema_type.hpp"
#include "danube/connect/source_record.hpp"

namespace danube::services {

using connect::ConnectorError;
using connect::SourceRecord;

// Encodes source records and decodes received payloads for one schema.
//
//   type         encode (source side)                      decode (sink side, decoded value)
//   json_schema  JSON text (a raw payload must be JSON)    parsed JSON
//   string       UTF-8 text; a JSON string value unquoted  JSON string
//   number       JSON number text                          JSON number
//   bytes        the bytes unchanged                       none (use as_bytes())
//   avro         Avro binary of the record's JSON value    JSON value (see avro.hpp)
//   protobuf     protobuf wire bytes of the JSON value     JSON value (see protobuf_schema.hpp)
//
// Encoding failures throw ConnectorError(serialization); decoding failures throw
// ConnectorError(invalid_data). Immutable and thread-safe once created.
class SchemaCodec {
 public:
  // `definition` is the schema text (ignored for string, number, bytes). Throws
  // ConnectorError(configuration) for a definition that does not parse.
  static std::shared_ptr<const SchemaCodec> create(SchemaType type, std::string_view definition,
                                                   std::string_view protobuf_message_type = {});

  struct Impl;
  // Use create(); the key keeps construction behind it while allowing make_shared.
  struct CreateKey {
    explicit CreateKey() = default;
  };
  SchemaCodec(CreateKey, SchemaType type, std::unique_ptr<Impl> impl);
  ~SchemaCodec();

  SchemaType type() const { return type_; }

  std::string encode(const SourceRecord& record) const;
  std::string encode_json(const nlohmann::json& value) const;
  // nullptr for bytes (there is no decoded value, only the bytes).
  std::shared_ptr<const nlohmann::json> decode(std::span<const std::uint8_t> payload) const;
  std::shared_ptr<const nlohmann::json> decode(std::string_view payload) const;

 private:
  SchemaType type_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace danube::services
