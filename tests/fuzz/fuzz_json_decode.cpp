// Fuzz target: JSON and text payload decoding as a sink sees it: serialization's parsers, the
// json_schema / string / number codecs and SinkRecord's accessors.
//
// Input: the payload. A payload that parses must dump and parse back to an equal value
// (numbers that parse to infinity excepted: JSON has no text for them). Expected outcomes:
// values, or ConnectorError.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "danube/connect/error.hpp"
#include "danube/connect/serialization.hpp"
#include "danube/connect/sink_record.hpp"
#include "danube/services/schema_codec.hpp"
#include "fuzz_support.hpp"

namespace {

using danube::connect::ConnectorError;
using danube::connect::SchemaType;
using danube::services::SchemaCodec;
namespace serialization = danube::connect::serialization;

template <class Fn>
void attempt(Fn&& fn) {
  try {
    fn();
  } catch (const ConnectorError&) {
  }
}

bool has_non_finite(const nlohmann::json& root) {
  std::vector<const nlohmann::json*> pending{&root};
  while (!pending.empty()) {
    const auto* value = pending.back();
    pending.pop_back();
    if (value->is_number_float() && !std::isfinite(value->get<double>())) return true;
    if (value->is_structured()) {
      for (const auto& child : *value)
        pending.push_back(&child);
    }
  }
  return false;
}

std::vector<std::shared_ptr<const SchemaCodec>> make_codecs() {
  return {SchemaCodec::create(SchemaType::json_schema, R"({"type":"object"})"),
          SchemaCodec::create(SchemaType::string, ""), SchemaCodec::create(SchemaType::number, ""),
          SchemaCodec::create(SchemaType::bytes, "")};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::shared_ptr<const SchemaCodec>> codecs = make_codecs();
  const auto payload = danube::fuzz::as_text(data, size);

  attempt([&] {
    const auto value = serialization::json_from_bytes(payload);
    const std::string text = serialization::json_to_bytes(value);
    if (!has_non_finite(value)) {
      danube::fuzz::require(serialization::json_from_bytes(text) == value,
                            "json: a parsed value dumps and parses back to itself");
    }
    (void)serialization::json_to_pretty_string(value);
  });
  attempt([&] { (void)serialization::number_from_bytes(payload); });
  attempt([&] { (void)serialization::integer_from_bytes(payload); });
  attempt([&] { (void)serialization::utf8_from_bytes(payload); });
  attempt([&] {
    const auto decoded = serialization::base64_decode(payload);
    danube::fuzz::require(serialization::base64_encode(decoded) == payload,
                          "base64: decoding is strict, so encoding gives the text back");
  });
  for (const auto& codec : codecs) {
    attempt([&] {
      if (const auto value = codec->decode(payload)) (void)codec->encode_json(*value);
    });
  }

  const auto record = danube::connect::SinkRecordBuilder()
                          .topic("/default/fuzz")
                          .payload(std::string(payload))
                          .build();
  attempt([&] { (void)record.as_json(); });
  attempt([&] { (void)record.as_string(); });
  attempt([&] { (void)record.as_number(); });
  attempt([&] { (void)record.as_integer(); });
  return 0;
}
