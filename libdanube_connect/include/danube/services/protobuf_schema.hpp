#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

#include "danube/connect/error.hpp"

// Protobuf payloads described by .proto text (as stored in the schema registry): the text is
// compiled at run time with libprotoc's parser, and messages are built as DynamicMessages.
// JSON conversion follows protobuf's canonical JSON mapping (64-bit integers as strings, enums
// as names, bytes as base64), except that decoded objects keep the .proto field names
// (snake_case) and include fields with default values; input accepts both the .proto names and
// lowerCamelCase.
namespace danube::services::protobuf {

using connect::ConnectorError;

// The deepest nesting accepted: of braces, brackets and angle brackets in .proto text (message
// blocks, aggregate option values), and of messages and groups in a payload (the recursion
// limit decoding sets). Deeper is an error naming the limit ("nesting deeper than 64 levels").
// 64 is as deep as protobuf's JSON conversion goes, which decoding ends with; its parser would
// accept 100.
inline constexpr int kMaxNestingDepth = 64;

class Schema {
 public:
  // Compiles `proto_text` (a single self-contained file; imports are not resolved, except the
  // well-known google/protobuf/*.proto types) and selects `message_type` (fully qualified,
  // e.g. "shop.Order"; empty = the first message defined in the file). Throws
  // ConnectorError(configuration) with the parser's line and column.
  static Schema parse(std::string_view proto_text, std::string_view message_type = {});

  struct Impl;

  // JSON -> wire bytes. Throws ConnectorError(serialization) (unknown field, wrong type).
  std::string encode(const nlohmann::json& value) const;
  // Wire bytes -> JSON. Throws ConnectorError(invalid_data) for malformed input, and for
  // messages nested deeper than kMaxNestingDepth.
  nlohmann::json decode(std::span<const std::uint8_t> bytes) const;
  nlohmann::json decode(std::string_view bytes) const;

  // The fully qualified name of the selected message.
  const std::string& message_type() const;

 private:
  explicit Schema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace danube::services::protobuf
