// Fuzz target: Avro payload decoding with a fixed set of schemas, and Avro schema parsing.
//
// Input: one selector byte, then the payload. Selector % (schemas + 1) picks a schema below; the
// extra value makes the rest a schema definition instead, parsed (as a registry definition
// would be) and, if valid, used to decode an empty payload.
//
// A decoded value is encoded again and that encoding decoded: what decode produces, encode
// must accept. Expected outcomes: values, or ConnectorError.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "danube/connect/error.hpp"
#include "danube/services/avro.hpp"
#include "fuzz_support.hpp"

namespace {

using danube::connect::ConnectorError;
using danube::services::avro::Schema;

constexpr std::array<std::string_view, 6> kSchemas = {
    // Every type once.
    R"({"type":"record","name":"Order","namespace":"shop","fields":[
        {"name":"id","type":"long"},
        {"name":"customer","type":"string"},
        {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
        {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
            {"name":"sku","type":"string"},{"name":"qty","type":"int"},{"name":"price","type":"double"}]}}},
        {"name":"tags","type":{"type":"map","values":"string"}},
        {"name":"note","type":["null","string"],"default":null},
        {"name":"digest","type":{"type":"fixed","name":"Digest","size":4}},
        {"name":"blob","type":"bytes"},
        {"name":"ratio","type":"float"},
        {"name":"express","type":"boolean"}]})",
    // Recursion through a union: a linked list.
    R"({"type":"record","name":"Node","fields":[{"name":"value","type":"int"},
        {"name":"next","type":["null","Node"]}]})",
    // Recursion through arrays and maps: a tree.
    R"({"type":"record","name":"Tree","fields":[{"name":"children","type":{"type":"array","items":"Tree"}},
        {"name":"labels","type":{"type":"map","values":"Tree"}}]})",
    // A union of every primitive.
    R"(["null","boolean","int","long","float","double","bytes","string"])",
    // Unions of records that hold unions.
    R"([{"type":"record","name":"A","fields":[{"name":"x","type":["null","int",{"type":"array","items":"A"}]}]},
        {"type":"record","name":"B","fields":[{"name":"y","type":["string",{"type":"map","values":["A","B"]}]}]}])",
    // Top-level containers.
    R"({"type":"map","values":{"type":"array","items":["null","long","string"]}})",
};

std::vector<Schema> parse_schemas() {
  std::vector<Schema> schemas;
  for (const auto text : kSchemas)
    schemas.push_back(Schema::parse(text));
  return schemas;
}

void decode_and_reencode(const Schema& schema, std::string_view payload) {
  nlohmann::json value;
  try {
    value = schema.decode(payload);
  } catch (const ConnectorError&) {
    return;
  }
  std::string encoded;
  try {
    encoded = schema.encode(value);
  } catch (const ConnectorError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    danube::fuzz::require(false, "avro: encode accepts every value decode produces");
  }
  try {
    (void)schema.decode(encoded);
  } catch (const ConnectorError&) {
    // Legitimate: decoding bounds the items by the size of the bytes, and the encoding may be
    // shorter than the input (one block where the input had many).
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Parsed once: the schemas are fixed and immutable.
  static const std::vector<Schema> schemas = parse_schemas();
  if (size == 0) return 0;
  const std::size_t selector = data[0] % (schemas.size() + 1);
  const std::string_view rest = danube::fuzz::as_text(data + 1, size - 1);
  if (selector < schemas.size()) {
    decode_and_reencode(schemas[selector], rest);
    return 0;
  }
  try {
    const Schema parsed = Schema::parse(rest);
    (void)parsed.describe();
    decode_and_reencode(parsed, {});
  } catch (const ConnectorError&) {
  }
  return 0;
}
