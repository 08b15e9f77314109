// Avro and Protobuf payloads, schema-aware encoding and decoding per schema type, the
// [[schemas]] registrar, the sink's bounded schema cache and the record decoder.
#include <prometheus/registry.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "danube/services/avro.hpp"
#include "danube/services/metrics.hpp"
#include "danube/services/protobuf_schema.hpp"
#include "danube/services/record_decoder.hpp"
#include "danube/services/schema_cache.hpp"
#include "danube/services/schema_codec.hpp"
#include "danube/services/schema_registrar.hpp"
#include "danube/services/schema_registry.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;
using danube::connect::test::TempDir;
using nlohmann::json;

namespace {

std::string data_file(const std::string& name) {
  std::ifstream in(std::string(DANUBE_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "missing test data " << name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}

using danube::connect::test::caught;

json sample_order() {
  return {{"id", 9007199254740993LL},
          {"customer", "Zoë"},
          {"status", "PAID"},
          {"items",
           {{{"sku", "A-1"}, {"qty", 2}, {"price", 9.5}},
            {{"sku", "B-2"}, {"qty", -2147483648LL}, {"price", 0.25}}}},
          {"tags", {{"channel", "web"}, {"region", "eu"}}},
          {"note", "leave at door"},
          {"digest", std::string("\x01\x02\xc3\xbf\x00", 5)},  // U+0001 U+0002 U+00FF U+0000
          {"raw", ""},
          {"express", true},
          {"weight", 1.5}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(avro_binary)

BOOST_AUTO_TEST_CASE(matches_the_specification_bytes) {
  BOOST_TEST(hex(avro::Schema::parse(R"("long")").encode(0)) == "00");
  BOOST_TEST(hex(avro::Schema::parse(R"("long")").encode(-1)) == "01");
  BOOST_TEST(hex(avro::Schema::parse(R"("long")").encode(1)) == "02");
  BOOST_TEST(hex(avro::Schema::parse(R"("long")").encode(-64)) == "7f");
  BOOST_TEST(hex(avro::Schema::parse(R"("long")").encode(64)) == "80 01");
  BOOST_TEST(hex(avro::Schema::parse(R"("string")").encode("foo")) == "06 66 6f 6f");
  const auto record = avro::Schema::parse(
      R"({"type":"record","name":"test","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]})");
  BOOST_TEST(hex(record.encode({{"a", 27}, {"b", "foo"}})) == "36 06 66 6f 6f");
  BOOST_TEST(hex(avro::Schema::parse(R"({"type":"array","items":"long"})").encode({3, 27})) ==
             "04 06 36 00");
  const auto optional = avro::Schema::parse(R"(["null","string"])");
  BOOST_TEST(hex(optional.encode(nullptr)) == "00");
  BOOST_TEST(hex(optional.encode("a")) == "02 02 61");
  BOOST_TEST(hex(avro::Schema::parse(R"("double")").encode(1.0)) == "00 00 00 00 00 00 f0 3f");
  BOOST_TEST(hex(avro::Schema::parse(R"("boolean")").encode(true)) == "01");
  BOOST_TEST(hex(avro::Schema::parse(R"({"type":"map","values":"int"})").encode({{"a", 1}})) ==
             "02 02 61 02 00");
}

BOOST_AUTO_TEST_CASE(round_trips_every_type) {
  const auto schema = avro::Schema::parse(data_file("order.avsc"));
  BOOST_TEST(schema.describe() == "record shop.Order");
  const auto order = sample_order();
  const auto bytes = schema.encode(order);
  BOOST_TEST(schema.decode(bytes) == order);
  // The bytes are binary Avro, not JSON text.
  BOOST_TEST(bytes.find("\"customer\"") == std::string::npos);
  BOOST_TEST(bytes.size() < order.dump().size());
}

BOOST_AUTO_TEST_CASE(defaults_fill_missing_fields) {
  const auto schema = avro::Schema::parse(data_file("order.avsc"));
  auto order = sample_order();
  order.erase("note");
  order.erase("express");
  const auto decoded = schema.decode(schema.encode(order));
  BOOST_TEST(decoded["note"].is_null());
  BOOST_TEST(decoded["express"] == false);
}

BOOST_AUTO_TEST_CASE(unions_accept_plain_and_wrapped_values) {
  const auto schema = avro::Schema::parse(
      R"(["null","int","string",{"type":"record","name":"P","namespace":"n","fields":[{"name":"x","type":"int"}]}])");
  BOOST_TEST(schema.decode(schema.encode(5)) == 5);
  BOOST_TEST(schema.decode(schema.encode("five")) == "five");
  BOOST_TEST(schema.decode(schema.encode({{"x", 1}})) == json({{"x", 1}}));
  BOOST_TEST(hex(schema.encode({{"string", "s"}})) == "04 02 73");
  BOOST_TEST(schema.decode(schema.encode({{"n.P", {{"x", 2}}}})) == json({{"x", 2}}));
  BOOST_TEST(schema.decode(schema.encode({{"P", {{"x", 3}}}})) == json({{"x", 3}}));
}

BOOST_AUTO_TEST_CASE(bytes_map_every_byte_value) {
  const auto schema = avro::Schema::parse(R"("bytes")");
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  const auto bytes = std::string("\x80\x04", 2) + all;  // length 256 as a zigzag varint
  const auto decoded = schema.decode(bytes);
  BOOST_TEST(schema.encode(decoded) == bytes);
}

BOOST_AUTO_TEST_CASE(recursive_schemas) {
  const auto list = avro::Schema::parse(
      R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]})");
  const json value = {{"v", 1}, {"next", {{"v", 2}, {"next", nullptr}}}};
  BOOST_TEST(list.decode(list.encode(value)) == value);
  // A record containing itself without a union never ends: refused instead of overflowing.
  const auto endless =
      avro::Schema::parse(R"({"type":"record","name":"R","fields":[{"name":"r","type":"R"}]})");
  BOOST_TEST(caught([&] { endless.decode(std::string_view()); }).is_invalid_data());
}

BOOST_AUTO_TEST_CASE(encode_errors_name_the_path) {
  const auto schema = avro::Schema::parse(data_file("order.avsc"));
  auto order = sample_order();
  order["items"][1]["qty"] = "two";
  auto error = caught([&] { schema.encode(order); });
  BOOST_TEST(error.kind() == ErrorKind::serialization);
  BOOST_TEST(error.message() == "avro encode $.items[1].qty: expected int, got string");

  order = sample_order();
  order.erase("customer");
  BOOST_TEST(caught([&] { schema.encode(order); }).message() ==
             "avro encode $.customer: missing field (no default)");
  order = sample_order();
  order["colour"] = "red";
  BOOST_TEST(caught([&] { schema.encode(order); }).message().find("unknown field 'colour'") !=
             std::string::npos);
  order = sample_order();
  order["status"] = "LOST";
  BOOST_TEST(caught([&] { schema.encode(order); }).message().find("'LOST' is not a symbol") !=
             std::string::npos);
  order = sample_order();
  order["items"][0]["qty"] = 2147483648LL;
  BOOST_TEST(caught([&] { schema.encode(order); }).message().find("out of int range") !=
             std::string::npos);
  order = sample_order();
  order["digest"] = "abc";
  BOOST_TEST(caught([&] { schema.encode(order); }).message().find("needs 4 bytes") !=
             std::string::npos);
  order = sample_order();
  order["raw"] = "€";
  BOOST_TEST(caught([&] { schema.encode(order); }).message().find("U+0000..U+00FF") !=
             std::string::npos);
  BOOST_TEST(caught([&] { avro::Schema::parse(R"(["null","int"])").encode(2.5); })
                 .message()
                 .find("no branch of the union [null, int] accepts a number") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(decode_errors_are_invalid_data) {
  const auto schema = avro::Schema::parse(data_file("order.avsc"));
  const auto bytes = schema.encode(sample_order());
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    BOOST_TEST(
        caught([&] { schema.decode(std::string_view(bytes).substr(0, cut)); }).is_invalid_data());
  }
  BOOST_TEST(caught([&] { schema.decode(bytes + "x"); }).message().find("trailing bytes") !=
             std::string::npos);
  const auto optional = avro::Schema::parse(R"(["null","string"])");
  BOOST_TEST(caught([&] { optional.decode(std::string("\x04", 1)); })
                 .message()
                 .find("union index out of range") != std::string::npos);
  BOOST_TEST(caught([&] { avro::Schema::parse(R"("boolean")").decode(std::string("\x02", 1)); })
                 .message()
                 .find("invalid boolean") != std::string::npos);
  BOOST_TEST(caught([&] { avro::Schema::parse(R"("string")").decode(std::string("\x01", 1)); })
                 .message()
                 .find("negative length") != std::string::npos);
  BOOST_TEST(
      caught([&] { avro::Schema::parse(R"("string")").decode(std::string("\x04\xff\xfe", 3)); })
          .message()
          .find("not valid UTF-8") != std::string::npos);
  BOOST_TEST(caught([&] {
               avro::Schema::parse(R"("long")").decode(std::string(11, '\xff'));
             }).is_invalid_data());
  // Two billion nulls from five bytes: refused rather than allocated.
  BOOST_TEST(caught([&] {
               avro::Schema::parse(R"({"type":"array","items":"null"})")
                   .decode(std::string("\xfe\xff\xff\xff\x0f\x00", 6));
             })
                 .message()
                 .find("too many items") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(schema_errors_are_configuration_errors) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"record","name":"A","fields":[{"name":"x","type":"strin"}]})",
       "avro schema: record 'A' field 'x': unknown type 'strin'"},
      {R"(not json)", "avro schema: not valid JSON"},
      {R"({"type":"enum","name":"E","symbols":[]})", "needs a non-empty symbols array"},
      {R"({"type":"enum","name":"E","symbols":["A","A"]})", "invalid or repeated symbol"},
      {R"([["null"],"int"])", "cannot directly contain a union"},
      {R"(["int","int"])", "contains 'int' twice"},
      {R"({"type":"record","name":"A","fields":[{"name":"x","type":"int","default":"s"}]})",
       "the default does not match"},
      {R"({"type":"record","name":"9A","fields":[]})", "invalid name '9A'"},
      {R"({"type":"fixed","name":"F"})", "fixed needs \"size\""},
      {R"({"type":"array"})", "array needs \"items\""},
      {R"([{"type":"record","name":"A","fields":[]},{"type":"record","name":"A","fields":[]}])",
       "type 'A' is defined twice"},
  };
  for (const auto& [schema, expected] : cases) {
    const auto error = caught([&] { avro::Schema::parse(schema); });
    BOOST_TEST(error.kind() == ErrorKind::configuration);
    BOOST_TEST(error.message().find(expected) != std::string::npos,
               error.message() << " should contain " << expected);
  }
}

BOOST_AUTO_TEST_CASE(decimals_are_exact_from_numbers_and_text) {
  const auto money =
      avro::Schema::parse(R"({"type":"bytes","logicalType":"decimal","precision":9,"scale":2})");
  // 12.5 at scale 2 is 1250 = 0x04e2, two bytes.
  BOOST_TEST(hex(money.encode(12.5)) == "04 04 e2");
  BOOST_TEST(money.decode(money.encode(12.5)) == "12.50");
  BOOST_TEST(hex(money.encode("-0.01")) == "02 ff");
  BOOST_TEST(money.decode(money.encode("-0.01")) == "-0.01");
  BOOST_TEST(money.decode(money.encode(0)) == "0.00");
  BOOST_TEST(money.decode(money.encode("1234567.89")) == "1234567.89");
  BOOST_TEST(money.decode(money.encode(1e3)) == "1000.00");
  BOOST_TEST(caught([&] { money.encode(1.234); }).message().find("more than 2 decimal places") !=
             std::string::npos);
  BOOST_TEST(caught([&] { money.encode("12345678.9"); }).message().find("more than 9 digits") !=
             std::string::npos);
  BOOST_TEST(caught([&] { money.encode("twelve"); }).kind() == ErrorKind::serialization);

  // A fixed decimal is sign-extended to its size.
  const auto fixed = avro::Schema::parse(
      R"({"type":"fixed","name":"Amount","size":4,"logicalType":"decimal","precision":9,"scale":3})");
  BOOST_TEST(hex(fixed.encode("-1.5")) == "ff ff fa 24");
  BOOST_TEST(fixed.decode(fixed.encode("-1234.567")) == "-1234.567");
  // 38 digits, the most this codec holds.
  const auto wide =
      avro::Schema::parse(R"({"type":"bytes","logicalType":"decimal","precision":38,"scale":10})");
  const std::string big = "-9999999999999999999999999999.9999999999";
  BOOST_TEST(wide.decode(wide.encode(big)) == big);
  BOOST_TEST(caught([&] {
               avro::Schema::parse(R"({"type":"bytes","logicalType":"decimal","precision":39})");
             })
                 .message()
                 .find("above the 38 digits") != std::string::npos);
  // Invalid logical types are ignored: a fixed too small for its precision stays plain fixed.
  const auto too_small = avro::Schema::parse(
      R"({"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":9})");
  BOOST_TEST(too_small.decode(too_small.encode("ab")) == "ab");
}

BOOST_AUTO_TEST_CASE(dates_and_timestamps_take_integers_and_iso_text) {
  const auto date = avro::Schema::parse(R"({"type":"int","logicalType":"date"})");
  BOOST_TEST(date.decode(date.encode("1970-01-02")) == 1);
  BOOST_TEST(date.decode(date.encode("1969-12-31")) == -1);
  BOOST_TEST(date.decode(date.encode(19753)) == 19753);
  BOOST_TEST(caught([&] { date.encode("2024-02-30"); }).message().find("not a valid date") !=
             std::string::npos);
  const auto millis = avro::Schema::parse(R"({"type":"long","logicalType":"timestamp-millis"})");
  BOOST_TEST(millis.decode(millis.encode("2024-01-31T12:30:00.250Z")) == 1706704200250LL);
  BOOST_TEST(millis.decode(millis.encode("2024-01-31T13:30:00.250+01:00")) == 1706704200250LL);
  BOOST_TEST(caught([&] { millis.encode("2024-01-31T12:30:00"); }).message().find("time zone") !=
             std::string::npos);
  const auto micros = avro::Schema::parse(R"({"type":"long","logicalType":"timestamp-micros"})");
  BOOST_TEST(micros.decode(micros.encode("1970-01-01T00:00:01.000001Z")) == 1000001);
  const auto local =
      avro::Schema::parse(R"({"type":"long","logicalType":"local-timestamp-millis"})");
  BOOST_TEST(local.decode(local.encode("1970-01-01T00:00:01")) == 1000);
  BOOST_TEST(caught([&] { local.encode("1970-01-01T00:00:01Z"); }).message().find("no time zone") !=
             std::string::npos);
  const auto time = avro::Schema::parse(R"({"type":"long","logicalType":"time-micros"})");
  BOOST_TEST(time.decode(time.encode("00:00:01.5")) == 1500000);
  const auto uuid = avro::Schema::parse(R"({"type":"string","logicalType":"uuid"})");
  const std::string id = "123e4567-e89b-12d3-a456-426614174000";
  BOOST_TEST(uuid.decode(uuid.encode(id)) == id);
  BOOST_TEST(caught([&] { uuid.encode("123e4567"); }).message().find("not a UUID") !=
             std::string::npos);
  // A logical type on a type it does not fit is ignored.
  const auto odd = avro::Schema::parse(R"({"type":"string","logicalType":"date"})");
  BOOST_TEST(odd.decode(odd.encode("whenever")) == "whenever");
}

BOOST_AUTO_TEST_CASE(data_written_with_one_schema_is_read_with_another) {
  const auto writer = avro::Schema::parse(R"({"type":"record","name":"Order",
    "namespace":"shop.v1","fields":[
      {"name":"id","type":"int"},
      {"name":"amount","type":"float"},
      {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["NEW","OLD","RARE"]}},
      {"name":"tags","type":{"type":"array","items":"string"}},
      {"name":"note","type":["null","string"]},
      {"name":"count","type":["null","int"]},
      {"name":"legacy","type":"string"}]})");
  const auto reader = avro::Schema::parse(R"({"type":"record","name":"Order",
    "namespace":"shop.v2","fields":[
      {"name":"priority","type":"int","default":3},
      {"name":"id","type":"long"},
      {"name":"amount","type":"double"},
      {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["NEW","OLD"],
                             "default":"OLD"}},
      {"name":"tags","type":{"type":"array","items":"bytes"}},
      {"name":"note","type":["null","string"]},
      {"name":"count","type":"long"}]})");
  const json written = {{"id", 7},      {"amount", 2.5}, {"kind", "RARE"}, {"tags", {"a", "b"}},
                        {"note", "hi"}, {"count", 5},    {"legacy", "x"}};
  const auto bytes = writer.encode(written);
  const json expected = {{"priority", 3},      {"id", 7},      {"amount", 2.5}, {"kind", "OLD"},
                         {"tags", {"a", "b"}}, {"note", "hi"}, {"count", 5}};
  BOOST_TEST(reader.decode(bytes, writer) == expected);
  // The same schema on both sides reads what a plain decode reads.
  BOOST_TEST(writer.decode(bytes, writer) == writer.decode(bytes));

  // What cannot be resolved names the problem.
  auto nulled = written;
  nulled["count"] = nullptr;
  const auto no_branch = caught([&] { reader.decode(writer.encode(nulled), writer); });
  BOOST_TEST(no_branch.is_invalid_data());
  BOOST_TEST(no_branch.message().find("the writer's null cannot be read as long") !=
             std::string::npos);
  const auto strict = avro::Schema::parse(R"({"type":"record","name":"Order","fields":[
      {"name":"id","type":"int"},{"name":"customer","type":"string"}]})");
  BOOST_TEST(caught([&] { strict.decode(bytes, writer); })
                 .message()
                 .find("field 'customer' of record Order is not in the writer's schema") !=
             std::string::npos);
  const auto other_name = avro::Schema::parse(
      R"({"type":"record","name":"Invoice","fields":[{"name":"id","type":"int"}]})");
  BOOST_TEST(caught([&] { other_name.decode(bytes, writer); })
                 .message()
                 .find("cannot be read as Invoice") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(protobuf_payloads)

BOOST_AUTO_TEST_CASE(matches_the_wire_format) {
  const auto schema =
      protobuf::Schema::parse("syntax = \"proto3\"; message M { int32 id = 1; string name = 2; }");
  BOOST_TEST(schema.message_type() == "M");
  BOOST_TEST(hex(schema.encode({{"id", 150}, {"name", "x"}})) == "08 96 01 12 01 78");
  BOOST_TEST(schema.decode(std::string("\x08\x96\x01\x12\x01\x78", 6)) ==
             json({{"id", 150}, {"name", "x"}}));
}

BOOST_AUTO_TEST_CASE(round_trips_nested_repeated_maps_enums_and_imports) {
  const auto schema = protobuf::Schema::parse(data_file("order.proto"), "shop.Order");
  BOOST_TEST(schema.message_type() == "shop.Order");
  const json order = {{"id", "9007199254740993"},  // int64 travels as a string in JSON
                      {"customer", "Zoë"},
                      {"status", "STATUS_PAID"},
                      {"items", {{{"sku", "A-1"}, {"qty", 2}}, {{"sku", "B"}, {"qty", 0}}}},
                      {"tags", {{"channel", "web"}}},
                      {"created", "2026-01-02T03:04:05Z"},
                      {"raw", "AAEC"},
                      {"total", 12.5}};
  const auto bytes = schema.encode(order);
  BOOST_TEST(schema.decode(bytes) == order);
  // lowerCamelCase input names are accepted too; output keeps the .proto names.
  const auto snake =
      protobuf::Schema::parse("syntax = \"proto3\"; message M { int32 order_id = 1; }");
  BOOST_TEST(snake.decode(snake.encode({{"orderId", 5}})) == json({{"order_id", 5}}));
  const auto first = protobuf::Schema::parse(data_file("order.proto"));
  BOOST_TEST(first.message_type() == "shop.Item");  // the first message of the file
}

BOOST_AUTO_TEST_CASE(errors) {
  auto error =
      caught([] { protobuf::Schema::parse("syntax = \"proto3\";\nmessage M { int32 = 1; }"); });
  BOOST_TEST(error.kind() == ErrorKind::configuration);
  BOOST_TEST(error.message().find("protobuf schema: line 2 column") != std::string::npos);
  error = caught([] { protobuf::Schema::parse(data_file("order.proto"), "shop.Missing"); });
  BOOST_TEST(error.message().find("'shop.Missing' not found (defined: shop.Item, shop.Order)") !=
             std::string::npos);
  error = caught(
      [] { protobuf::Schema::parse("syntax = \"proto3\"; import \"other.proto\"; message M {}"); });
  BOOST_TEST(error.kind() == ErrorKind::configuration);
  error = caught([] { protobuf::Schema::parse("syntax = \"proto3\";"); });
  BOOST_TEST(error.message().find("defines no message") != std::string::npos);

  const auto schema = protobuf::Schema::parse(data_file("order.proto"), "shop.Order");
  error = caught([&] { schema.encode({{"colour", "red"}}); });
  BOOST_TEST(error.kind() == ErrorKind::serialization);
  error = caught([&] { schema.encode({{"id", "not a number"}}); });
  BOOST_TEST(error.kind() == ErrorKind::serialization);
  error = caught([&] { schema.decode(std::string("\x0a\xff", 2)); });
  BOOST_TEST(error.is_invalid_data());

  const auto required =
      protobuf::Schema::parse("syntax = \"proto2\"; message R { required int32 id = 1; }");
  BOOST_TEST(caught([&] { required.decode(std::string_view()); })
                 .message()
                 .find("missing required fields: id") != std::string::npos);
  BOOST_TEST(caught([&] { required.encode(json::object()); }).kind() == ErrorKind::serialization);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(codecs)

BOOST_AUTO_TEST_CASE(json_schema_type) {
  const auto codec = SchemaCodec::create(SchemaType::json_schema, data_file("order.schema.json"));
  const auto record = SourceRecord::from_json("", {{"id", 1}});
  const auto bytes = codec->encode(record);
  BOOST_TEST(bytes == R"({"id":1})");
  BOOST_TEST(*codec->decode(bytes) == json({{"id", 1}}));
  BOOST_TEST(codec->encode(SourceRecord::from_string("", R"({"raw":true})")) == R"({"raw":true})");
  BOOST_TEST(caught([&] { codec->encode(SourceRecord::from_string("", "not json")); }).kind() ==
             ErrorKind::serialization);
  BOOST_TEST(caught([&] { codec->decode(std::string_view("{")); }).is_invalid_data());
  BOOST_TEST(caught([] { SchemaCodec::create(SchemaType::json_schema, "{bad"); }).kind() ==
             ErrorKind::configuration);
}

BOOST_AUTO_TEST_CASE(string_type) {
  const auto codec = SchemaCodec::create(SchemaType::string, "");
  BOOST_TEST(codec->encode(SourceRecord::from_string("", "plain \"text\"")) == "plain \"text\"");
  BOOST_TEST(codec->encode(SourceRecord::from_json("", "unquoted")) == "unquoted");
  BOOST_TEST(codec->encode(SourceRecord::from_json("", {{"a", 1}})) == R"({"a":1})");
  BOOST_TEST(*codec->decode(std::string_view("héllo")) == "héllo");
  BOOST_TEST(caught([&] { codec->decode(std::string("\xff", 1)); }).is_invalid_data());
  BOOST_TEST(caught([&] {
               codec->encode(SourceRecord::from_bytes("", std::string("\xff", 1)));
             }).kind() == ErrorKind::serialization);
  BOOST_TEST(codec->encode_json("x") == "x");
}

BOOST_AUTO_TEST_CASE(number_type) {
  const auto codec = SchemaCodec::create(SchemaType::number, "");
  BOOST_TEST(codec->encode(SourceRecord::from_number("", 42)) == "42");
  BOOST_TEST(codec->encode(SourceRecord::from_number("", -0.5)) == "-0.5");
  BOOST_TEST(codec->encode(SourceRecord::from_string("", "7")) == "7");
  BOOST_TEST(*codec->decode(std::string_view("3.25")) == 3.25);
  BOOST_TEST(caught([&] { codec->encode(SourceRecord::from_string("", "seven")); }).kind() ==
             ErrorKind::serialization);
  BOOST_TEST(caught([&] { codec->decode(std::string_view("\"7\"")); }).is_invalid_data());
  BOOST_TEST(caught([&] { codec->encode_json("7"); }).kind() == ErrorKind::serialization);
}

BOOST_AUTO_TEST_CASE(bytes_type) {
  const auto codec = SchemaCodec::create(SchemaType::bytes, "");
  const std::string binary("\x00\x01\xff", 3);
  BOOST_TEST(codec->encode(SourceRecord::from_bytes("", binary)) == binary);
  BOOST_TEST(codec->decode(binary) == nullptr);  // no decoded value: the bytes are the value
}

BOOST_AUTO_TEST_CASE(avro_and_protobuf_types_encode_json_records) {
  const auto avro_codec = SchemaCodec::create(SchemaType::avro, data_file("order.avsc"));
  const auto order = sample_order();
  const auto avro_bytes = avro_codec->encode(SourceRecord::from_json("", order));
  BOOST_TEST(*avro_codec->decode(avro_bytes) == order);
  // A raw JSON text payload is accepted too.
  BOOST_TEST(avro_codec->encode(SourceRecord::from_string("", order.dump())) == avro_bytes);
  BOOST_TEST(caught([&] { avro_codec->encode(SourceRecord::from_string("", "{")); }).kind() ==
             ErrorKind::serialization);

  const auto proto_codec =
      SchemaCodec::create(SchemaType::protobuf, data_file("order.proto"), "shop.Order");
  const json small = {{"id", "5"}, {"customer", "c"}};
  const auto proto_bytes = proto_codec->encode(SourceRecord::from_json("", small));
  const auto decoded = proto_codec->decode(proto_bytes);
  BOOST_TEST((*decoded)["customer"] == "c");
  BOOST_TEST((*decoded)["id"] == "5");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(registrar)

struct RegistrarFixture {
  TempDir dir;
  InMemorySchemaRegistry registry;
  SchemaRegistrar registrar{registry};

  SchemaConfig avro_config(const std::string& file) {
    SchemaConfig config;
    config.subject = "orders-value";
    config.schema_type = SchemaType::avro;
    config.schema_file = dir.path() / file;
    return config;
  }
};

const std::string kV1 = R"({"type":"record","name":"O","fields":[{"name":"id","type":"long"}]})";
const std::string kV2 =
    R"({"type":"record","name":"O","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]})";

BOOST_FIXTURE_TEST_CASE(registers_a_new_subject, RegistrarFixture) {
  dir.write("o.avsc", kV1);
  const auto schema = registrar.register_schema("/default/orders", avro_config("o.avsc"));
  BOOST_TEST(schema.registered);
  BOOST_TEST(schema.version == 1u);
  BOOST_TEST(schema.schema_id != 0u);
  BOOST_TEST(schema.definition == kV1);
  BOOST_REQUIRE(schema.codec);
  BOOST_TEST(*schema.codec->decode(schema.codec->encode_json({{"id", 3}})) == json({{"id", 3}}));
  BOOST_TEST(registry.calls("register_schema") == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_unchanged_file_is_not_registered_again, RegistrarFixture) {
  dir.write("o.avsc", kV1);
  registrar.register_schema("/default/orders", avro_config("o.avsc"));
  const auto again = registrar.register_schema("/default/orders", avro_config("o.avsc"));
  BOOST_TEST(!again.registered);
  BOOST_TEST(again.version == 1u);
  BOOST_TEST(registry.calls("register_schema") == 1u);
  BOOST_TEST(registry.calls("check_compatibility") == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_changed_file_is_checked_then_registered, RegistrarFixture) {
  dir.write("o.avsc", kV1);
  registrar.register_schema("/default/orders", avro_config("o.avsc"));
  dir.write("o.avsc", kV2);
  const auto updated = registrar.register_schema("/default/orders", avro_config("o.avsc"));
  BOOST_TEST(updated.registered);
  BOOST_TEST(updated.version == 2u);
  BOOST_TEST(updated.definition == kV2);
  BOOST_TEST(registry.calls("check_compatibility") == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_incompatible_change_is_refused_with_reasons, RegistrarFixture) {
  dir.write("o.avsc", kV1);
  registrar.register_schema("/default/orders", avro_config("o.avsc"));
  registry.set_compatibility_rule([](const RegisteredSchema&, SchemaType, const std::string&) {
    return CompatibilityResult{false, {"field 'id' removed", "type changed"}};
  });
  dir.write("o.avsc", R"({"type":"record","name":"O","fields":[{"name":"x","type":"int"}]})");
  const auto error =
      caught([&] { registrar.register_schema("/default/orders", avro_config("o.avsc")); });
  BOOST_TEST(error.kind() == ErrorKind::configuration);
  BOOST_TEST(
      error.message().find("not compatible with version 1: field 'id' removed; type changed") !=
      std::string::npos);
  BOOST_TEST(registry.calls("register_schema") == 1u);
}

BOOST_FIXTURE_TEST_CASE(without_auto_register_the_subject_must_exist, RegistrarFixture) {
  dir.write("o.avsc", kV1);
  auto config = avro_config("o.avsc");
  config.auto_register = false;
  auto error = caught([&] { registrar.register_schema("/default/orders", config); });
  BOOST_TEST(error.message().find("not registered and auto_register is false") !=
             std::string::npos);
  registry.register_schema("orders-value", SchemaType::avro, kV2);
  const auto schema = registrar.register_schema("/default/orders", config);  // differs: warns only
  BOOST_TEST(!schema.registered);
  BOOST_TEST(schema.definition == kV2);
  BOOST_TEST(registry.calls("register_schema") == 1u);
}

BOOST_FIXTURE_TEST_CASE(version_strategies, RegistrarFixture) {
  registry.register_schema("orders-value", SchemaType::avro, kV1);
  registry.register_schema("orders-value", SchemaType::avro, kV2);
  dir.write("o.avsc", kV2);
  auto config = avro_config("o.avsc");
  config.version_strategy = VersionStrategy::pinned(1);
  const auto pinned = registrar.register_schema("/default/orders", config);
  BOOST_TEST(pinned.version == 1u);
  BOOST_TEST(pinned.definition == kV1);
  // The codec is the pinned version's: it rejects v2's extra field.
  BOOST_TEST(caught([&] {
               pinned.codec->encode_json({{"id", 1}, {"note", "n"}});
             }).kind() == ErrorKind::serialization);
  config.version_strategy = VersionStrategy::pinned(5);
  BOOST_TEST(caught([&] { registrar.register_schema("/default/orders", config); })
                 .message()
                 .find("pinned version 5 does not exist") != std::string::npos);
  config.version_strategy = VersionStrategy::minimum(2);
  BOOST_TEST(registrar.register_schema("/default/orders", config).version == 2u);
  config.version_strategy = VersionStrategy::minimum(3);
  BOOST_TEST(caught([&] { registrar.register_schema("/default/orders", config); })
                 .message()
                 .find("latest version 2 is below the minimum 3") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(bad_files_and_mismatches_are_configuration_errors, RegistrarFixture) {
  dir.write("bad.avsc", R"({"type":"record","name":"O","fields":[{"name":"id","type":"lng"}]})");
  auto error =
      caught([&] { registrar.register_schema("/default/orders", avro_config("bad.avsc")); });
  BOOST_TEST(error.kind() == ErrorKind::configuration);
  BOOST_TEST(
      error.message().find("bad.avsc: avro schema: record 'O' field 'id': unknown type 'lng'") !=
      std::string::npos);
  BOOST_TEST(registry.calls("register_schema") == 0u);

  error =
      caught([&] { registrar.register_schema("/default/orders", avro_config("missing.avsc")); });
  BOOST_TEST(error.message().find("cannot read schema file") != std::string::npos);

  registry.register_schema("orders-value", SchemaType::json_schema, "{}");
  dir.write("o.avsc", kV1);
  error = caught([&] { registrar.register_schema("/default/orders", avro_config("o.avsc")); });
  BOOST_TEST(error.message().find("registered with type 'json_schema' but the configuration says "
                                  "'avro'") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(registry_failures_propagate_as_danube_errors, RegistrarFixture) {
  dir.write("o.avsc", kV1);
  registry.fail_with(ConnectorError::danube(
      danube::client::Error(danube::client::ErrorCategory::unavailable, 14, "broker down")));
  const auto error =
      caught([&] { registrar.register_schema("/default/orders", avro_config("o.avsc")); });
  BOOST_TEST(error.kind() == ErrorKind::danube);
  BOOST_TEST(error.client_error()->is_retryable());
}

BOOST_FIXTURE_TEST_CASE(primitive_types_need_no_file_and_register_all_keys_by_topic,
                        RegistrarFixture) {
  SchemaConfig text;
  text.subject = "names-value";
  text.schema_type = SchemaType::string;
  dir.write("o.avsc", kV1);
  const auto schemas = registrar.register_all(
      {{"/default/names", text}, {"/default/orders", avro_config("o.avsc")}});
  BOOST_TEST(schemas.size() == 2u);
  BOOST_TEST((schemas.at("/default/names").codec->type() == SchemaType::string));
  BOOST_TEST((schemas.at("/default/orders").codec->type() == SchemaType::avro));
}

BOOST_AUTO_TEST_CASE(producer_schemas_win_over_configured_ones) {
  SchemaConfig own;
  own.subject = "own";
  own.schema_type = SchemaType::string;
  SchemaConfig configured = own;
  configured.subject = "configured";
  ProducerConfig with_schema("/default/a", 0, false);
  with_schema.schema = own;
  const auto mappings =
      producer_schema_mappings({{"/default/a", configured}, {"/default/b", configured}},
                               {with_schema, ProducerConfig("/default/b", 0, false)});
  BOOST_REQUIRE(mappings.size() == 2u);
  BOOST_TEST(mappings[0].topic == "/default/a");
  BOOST_TEST(mappings[0].schema.subject == "own");
  BOOST_TEST(mappings[1].topic == "/default/b");
  BOOST_TEST(mappings[1].schema.subject == "configured");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sink_side)

BOOST_AUTO_TEST_CASE(cache_is_bounded_lru_and_counts) {
  auto registry = std::make_shared<InMemorySchemaRegistry>();
  const auto a = registry->register_schema("a", SchemaType::string, "");
  const auto b = registry->register_schema("b", SchemaType::string, "");
  const auto c = registry->register_schema("c", SchemaType::string, "");
  auto metrics_registry = std::make_shared<prometheus::Registry>();
  ConnectorMetrics metrics("cache-test", metrics_registry);
  SchemaCache cache(registry, 2, &metrics);
  cache.resolve(a.schema_id, 1);
  cache.resolve(b.schema_id, 1);
  cache.resolve(a.schema_id, 1);  // hit; a becomes most recent
  cache.resolve(c.schema_id, 1);  // evicts b
  BOOST_TEST(cache.size() == 2u);
  BOOST_TEST(cache.hits() == 1u);
  BOOST_TEST(cache.misses() == 3u);
  cache.resolve(a.schema_id, 1);
  BOOST_TEST(cache.hits() == 2u);
  cache.resolve(b.schema_id, 1);
  BOOST_TEST(cache.misses() == 4u);
  BOOST_TEST(registry->calls("get_schema") == 4u);
  const auto text = render_metrics(*metrics_registry);
  BOOST_TEST(
      text.find(
          R"(danube_connector_schema_cache_requests_total{connector="cache-test",result="hit"} 2)") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(failures_are_not_cached) {
  auto registry = std::make_shared<InMemorySchemaRegistry>();
  const auto a = registry->register_schema("a", SchemaType::avro, R"("int")");
  SchemaCache cache(registry, 8);
  registry->fail_with(ConnectorError::danube(
      danube::client::Error(danube::client::ErrorCategory::unavailable, 14, "down")));
  BOOST_TEST(caught([&] { cache.resolve(a.schema_id, 1); }).kind() == ErrorKind::danube);
  registry->fail_with(std::nullopt);
  BOOST_TEST(cache.resolve(a.schema_id, 1)->schema.subject == "a");
  BOOST_TEST(caught([&] { cache.resolve(999, 1); }).kind() == ErrorKind::danube);
  const auto broken = registry->register_schema("broken", SchemaType::avro, "{nope");
  BOOST_TEST(caught([&] { cache.resolve(broken.schema_id, 1); }).is_invalid_data());
}

struct DecoderFixture {
  std::shared_ptr<InMemorySchemaRegistry> registry = std::make_shared<InMemorySchemaRegistry>();
  RecordDecoder decoder{std::make_shared<SchemaCache>(registry, 16)};
  RegisterSchemaResult orders =
      registry->register_schema("orders-value", SchemaType::avro, data_file("order.avsc"));
  std::string avro_payload = avro::Schema::parse(data_file("order.avsc")).encode(sample_order());
};

BOOST_FIXTURE_TEST_CASE(decodes_with_the_messages_schema, DecoderFixture) {
  auto builder = SinkRecordBuilder().topic("/default/orders").payload(avro_payload);
  const auto record =
      decoder.decode(builder, orders.schema_id, orders.version, std::string("orders-value"));
  BOOST_REQUIRE(record.schema().has_value());
  BOOST_TEST(record.schema()->subject == "orders-value");
  BOOST_TEST(record.schema()->version == 1u);
  BOOST_TEST((record.schema()->type == SchemaType::avro));
  BOOST_REQUIRE(record.decoded_value() != nullptr);
  BOOST_TEST(record.as_json() == sample_order());
}

BOOST_FIXTURE_TEST_CASE(expected_subject_is_enforced, DecoderFixture) {
  auto builder = SinkRecordBuilder().topic("/default/orders").payload(avro_payload);
  auto error = caught([&] {
    decoder.decode(builder, orders.schema_id, orders.version, std::string("payments-value"));
  });
  BOOST_TEST(error.is_invalid_data());
  BOOST_TEST(error.message() ==
             "schema mismatch: expected 'payments-value', got 'orders-value' "
             "(schema id " +
                 std::to_string(orders.schema_id) + ")");
  auto plain = SinkRecordBuilder().topic("/default/orders").payload("{}");
  error = caught(
      [&] { decoder.decode(plain, std::nullopt, std::nullopt, std::string("orders-value")); });
  BOOST_TEST(error.message() ==
             "expected schema subject 'orders-value' but the message carries no schema");
  const auto untyped = decoder.decode(plain, std::nullopt, std::nullopt, std::nullopt);
  BOOST_TEST(!untyped.schema().has_value());
  BOOST_TEST(untyped.decoded_value() == nullptr);
}

BOOST_FIXTURE_TEST_CASE(undecodable_payloads_are_invalid_data, DecoderFixture) {
  auto builder = SinkRecordBuilder().topic("/default/orders").payload("{\"json\":\"not avro\"}");
  BOOST_TEST(caught([&] {
               decoder.decode(builder, orders.schema_id, 1, std::nullopt);
             }).is_invalid_data());
}

BOOST_AUTO_TEST_CASE(without_a_registry_schema_ids_pass_through) {
  RecordDecoder decoder(nullptr);
  auto builder = SinkRecordBuilder().topic("/default/t").payload("x");
  const auto record = decoder.decode(builder, 7, 2, std::nullopt);
  BOOST_TEST(record.schema()->id == 7u);
  BOOST_TEST(record.schema()->version == 2u);
  BOOST_TEST(!record.schema()->type.has_value());
  BOOST_TEST(caught([&] { decoder.decode(builder, 7, 2, std::string("s")); }).is_invalid_data());
}

BOOST_AUTO_TEST_SUITE_END()
