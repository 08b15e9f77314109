#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

#include "danube/connect/error.hpp"

// Avro binary encoding (Avro 1.11 specification) of JSON values, written for this SDK.
//
// Supported: null, boolean, int, long, float, double, bytes, string, record, enum (with a
// default for readers), array, map, union, fixed, named-type references and namespaces, field
// defaults, schema resolution (decode data written with another schema), and the logical types
// decimal, uuid, date, time-millis/micros, timestamp-millis/micros/nanos,
// local-timestamp-millis/micros/nanos and duration. Values map to JSON naturally: records are
// objects, maps are objects, arrays are arrays, enums are their symbol strings, bytes and fixed
// are strings whose code points are the byte values (U+0000..U+00FF, the Avro JSON convention),
// and a union value is the plain value of its branch (null or e.g. 42). When encoding, a union
// also accepts the Avro JSON form {"<branch type name>": value}; otherwise the first branch that
// accepts the value is used.
//
// Logical types: a decimal (up to 38 digits) is written from a JSON number or a decimal string
// ("12.50"; more places than its scale, or more digits than its precision, are errors) and read
// as a decimal string, exact; a uuid must look like one; date, time and timestamp values are
// their underlying integers, and are also written from ISO 8601 text ("2024-01-31",
// "12:30:00.250", "2024-01-31T12:30:00Z" or with an offset; local timestamps without a zone;
// years 1680-2260). A logical type on a type it does not fit is ignored, as the specification
// says.
namespace danube::services::avro {

using connect::ConnectorError;

// The deepest nesting of types (records, arrays, maps, unions) that parsing a schema, encoding
// and decoding follow; deeper is an error naming the limit ("nesting deeper than 200 levels").
// It bounds the stack: a recursive schema can otherwise recurse without consuming input. The
// schema's JSON text is also held to danube::kMaxJsonNestingDepth (128).
inline constexpr int kMaxNestingDepth = 200;

class Schema {
 public:
  // Parses an Avro schema (JSON text). Throws ConnectorError(configuration) naming the
  // problem ("avro schema: record 'Order' field 'id': unknown type 'strin'"). Field defaults
  // are checked against their types, all of them within 10 000 steps of failed union tries
  // (see encode).
  static Schema parse(std::string_view schema_json);

  // Throws ConnectorError(serialization) naming the path of the bad value ("$.items[2].qty:
  // expected int, got string"). A union takes the first branch that encodes the value; when
  // failed tries of branches add up to more than 10 000 steps plus 4 per node of the value,
  // the encode fails instead of trying on (unions that all take the same JSON can otherwise
  // take time exponential in the nesting).
  std::string encode(const nlohmann::json& value) const;
  // Throws ConnectorError(invalid_data) for truncated or malformed input, and for trailing
  // bytes. Memory use is bounded by the input size.
  nlohmann::json decode(std::span<const std::uint8_t> bytes) const;
  nlohmann::json decode(std::string_view bytes) const;
  // Data written with `writer` read as this schema (schema resolution): fields are matched by
  // name (missing ones take this schema's defaults, extra ones are skipped), int/long/float
  // widen, string and bytes convert, unions pick the first matching branch, unknown enum
  // symbols take this enum's default. What cannot be resolved is ConnectorError(invalid_data)
  // naming it.
  nlohmann::json decode(std::string_view bytes, const Schema& writer) const;

  // "record com.example.Order", "int", ...
  std::string describe() const;

  // Internal representation (defined in avro.cpp).
  struct Node;
  struct Impl;

 private:
  explicit Schema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace danube::services::avro
