// Fuzz target: Protobuf payload decoding (wire bytes -> JSON) with a fixed set of schemas, and
// .proto text compilation.
//
// Input: one selector byte, then the payload. Selector % (schemas + 1) picks a message type
// below; the extra value makes the rest .proto text instead, compiled (as a registry definition
// would be) and, if valid, used to decode an empty payload.
//
// A decoded value is encoded again: what decode produces, encode must accept (values holding a
// google.protobuf.Any excepted, see has_any). Expected outcomes: values, or ConnectorError.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "danube/connect/error.hpp"
#include "danube/services/protobuf_schema.hpp"
#include "fuzz_support.hpp"

namespace {

using danube::connect::ConnectorError;
using danube::services::protobuf::Schema;

constexpr std::string_view kProto3 = R"(syntax = "proto3";
package shop;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Status { NEW = 0; PAID = 1; SHIPPED = 2; }

message Item {
  string sku = 1;
  int32 qty = 2;
  double price = 3;
}

message Order {
  int64 id = 1;
  string customer = 2;
  Status status = 3;
  repeated Item items = 4;
  map<string, string> tags = 5;
  bytes digest = 6;
  float ratio = 7;
  bool express = 8;
  uint64 big = 9;
  sint32 delta = 10;
  fixed64 stamp = 11;
  sfixed32 offset = 12;
  repeated int32 packed = 13;
  oneof contact { string email = 14; string phone = 15; }
  optional string note = 16;
  map<int32, Item> by_line = 17;
}

message Node {
  int32 value = 1;
  Node child = 2;
  repeated Node children = 3;
}

message Envelope {
  google.protobuf.Any payload = 1;
  google.protobuf.Struct attributes = 2;
  google.protobuf.Value value = 3;
  google.protobuf.Timestamp at = 4;
  google.protobuf.Duration after = 5;
  google.protobuf.StringValue label = 6;
  google.protobuf.Int64Value count = 7;
  repeated google.protobuf.Any more = 8;
}
)";

constexpr std::string_view kProto2 = R"(syntax = "proto2";
package legacy;

message Record {
  required int32 id = 1;
  optional string name = 2 [default = "none"];
  repeated group Line = 3 {
    required string text = 4;
    optional Record nested = 5;
  }
  extensions 100 to 199;
}
)";

struct Target {
  std::string_view proto;
  std::string_view message;
};

constexpr std::array<Target, 6> kTargets = {{
    {kProto3, "shop.Order"},
    {kProto3, "shop.Node"},
    {kProto3, "shop.Envelope"},
    {kProto3, "shop.Item"},
    {kProto2, "legacy.Record"},
    {kProto3, "google.protobuf.Value"},
}};

std::vector<Schema> parse_schemas() {
  std::vector<Schema> schemas;
  for (const auto& target : kTargets)
    schemas.push_back(Schema::parse(target.proto, target.message));
  return schemas;
}

// Whether `root` holds a google.protobuf.Any. Protobuf prints an Any with an empty value
// without resolving its type URL, but parsing it back needs the type: such values may not
// encode again.
bool has_any(const nlohmann::json& root) {
  std::vector<const nlohmann::json*> pending{&root};
  while (!pending.empty()) {
    const auto* value = pending.back();
    pending.pop_back();
    if (value->is_object() && value->contains("@type")) return true;
    if (value->is_structured()) {
      for (const auto& child : *value)
        pending.push_back(&child);
    }
  }
  return false;
}

void decode_and_reencode(const Schema& schema, std::string_view payload) {
  nlohmann::json value;
  try {
    value = schema.decode(payload);
  } catch (const ConnectorError&) {
    return;
  }
  try {
    (void)schema.decode(schema.encode(value));
  } catch (const ConnectorError& e) {
    if (has_any(value)) return;
    std::fprintf(stderr, "%s\n", e.what());
    danube::fuzz::require(false, "protobuf: encode accepts every value decode produces");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Compiled once: the schemas are fixed and immutable.
  static const std::vector<Schema> schemas = parse_schemas();
  if (size == 0) return 0;
  const std::size_t selector = data[0] % (schemas.size() + 1);
  const std::string_view rest = danube::fuzz::as_text(data + 1, size - 1);
  if (selector < schemas.size()) {
    decode_and_reencode(schemas[selector], rest);
    return 0;
  }
  try {
    const Schema compiled = Schema::parse(rest);
    decode_and_reencode(compiled, {});
  } catch (const ConnectorError&) {
  }
  return 0;
}
