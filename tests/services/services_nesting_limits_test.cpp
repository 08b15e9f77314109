// Deeply nested hostile input to every parser the SDK runs on outside data: JSON payloads and
// json_schema definitions, Avro schemas and payloads, .proto text and Protobuf payloads, TOML
// configuration. Each is refused with an error naming its limit, instead of overflowing the
// stack (or, for Avro unions, instead of running for ever).
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "danube/connect/config_error.hpp"
#include "danube/connect/config_loader.hpp"
#include "danube/connect/config_section.hpp"
#include "danube/connect/serialization.hpp"
#include "danube/services/avro.hpp"
#include "danube/services/protobuf_schema.hpp"
#include "danube/services/schema_codec.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;

namespace {

// As deep as the broker test's schema: enough to overflow any thread's stack when recursed.
constexpr std::size_t kHostileDepth = 70'000;

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i)
    out += piece;
  return out;
}

// `levels` nested JSON arrays: [[[...]]].
std::string nested_arrays(std::size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

// `levels` nested JSON objects: {"a":{"a":...{}...}}.
std::string nested_objects(std::size_t levels) {
  return repeat("{\"a\":", levels - 1) + "{}" + std::string(levels - 1, '}');
}

using danube::connect::test::caught;

bool mentions(const ConnectorError& error, std::string_view text) {
  return std::string_view(error.what()).find(text) != std::string_view::npos;
}

const std::string kJsonLimit = "JSON nesting deeper than 128 levels";

}  // namespace

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(payload_decoding_stops_at_the_limit) {
  BOOST_TEST(serialization::json_from_bytes(nested_arrays(128)).is_array());
  BOOST_TEST(serialization::json_from_bytes(nested_objects(128)).is_object());
  for (const auto& payload : {nested_arrays(129), nested_objects(129), nested_arrays(kHostileDepth),
                              nested_objects(kHostileDepth)}) {
    const auto error = caught([&] { (void)serialization::json_from_bytes(payload); });
    BOOST_TEST((error.kind() == ErrorKind::invalid_data));
    BOOST_TEST(mentions(error, kJsonLimit), error.what());
  }
}

BOOST_AUTO_TEST_CASE(brackets_in_strings_do_not_count) {
  // Escaped quotes must not end the string early either.
  const std::string text =
      "[\"" + std::string(500, '[') + "\\\"" + std::string(500, '{') + "\", \"\\\\\"]";
  const auto value = serialization::json_from_bytes(text);
  BOOST_TEST(value.size() == 2U);
  BOOST_TEST(value[1] == "\\");
}

BOOST_AUTO_TEST_CASE(codecs_and_number_payloads_refuse_deep_input) {
  const auto codec = SchemaCodec::create(SchemaType::json_schema, R"({"type":"object"})");
  const auto decode_error = caught([&] { (void)codec->decode(nested_arrays(kHostileDepth)); });
  BOOST_TEST((decode_error.kind() == ErrorKind::invalid_data));
  BOOST_TEST(mentions(decode_error, kJsonLimit), decode_error.what());

  const auto number = SchemaCodec::create(SchemaType::number, "");
  BOOST_TEST((caught([&] { (void)number->decode(nested_arrays(kHostileDepth)); }).kind() ==
              ErrorKind::invalid_data));
  BOOST_TEST((caught([&] { (void)serialization::number_from_bytes(nested_arrays(200)); }).kind() ==
              ErrorKind::invalid_data));

  const auto definition_error = caught(
      [&] { (void)SchemaCodec::create(SchemaType::json_schema, nested_objects(kHostileDepth)); });
  BOOST_TEST((definition_error.kind() == ErrorKind::configuration));
  BOOST_TEST(mentions(definition_error, kJsonLimit), definition_error.what());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(avro_schemas_and_payloads)

BOOST_AUTO_TEST_CASE(a_deep_default_is_refused_before_it_is_copied) {
  const std::string schema = R"({"type":"record","name":"R","fields":[{"name":"f","type":"string",)"
                             R"("default":)" +
                             nested_objects(kHostileDepth) + "}]}";
  const auto error = caught([&] { (void)avro::Schema::parse(schema); });
  BOOST_TEST((error.kind() == ErrorKind::configuration));
  BOOST_TEST(mentions(error, kJsonLimit), error.what());
}

BOOST_AUTO_TEST_CASE(deeply_nested_types_are_refused) {
  // Unions of unions are not allowed, so nest arrays: every level is one JSON object.
  const auto array_of = [](std::size_t levels) {
    return repeat(R"({"type":"array","items":)", levels) + "\"int\"" + std::string(levels, '}');
  };
  BOOST_TEST(avro::Schema::parse(array_of(100)).describe() == "array");
  const auto error = caught([&] { (void)avro::Schema::parse(array_of(kHostileDepth)); });
  BOOST_TEST(mentions(error, kJsonLimit), error.what());
}

BOOST_AUTO_TEST_CASE(recursive_payloads_stop_at_the_avro_limit) {
  // A linked list: each element is a union branch and a record, two levels.
  const auto list = avro::Schema::parse(
      R"({"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]})");
  const auto payload = [](std::size_t elements) {
    return std::string(elements, '\x02') + std::string(1, '\x00');  // branch 1 ... then null
  };
  nlohmann::json shallow = list.decode(payload(90));
  BOOST_TEST(shallow["next"]["next"].is_object());
  for (const std::size_t elements : {std::size_t{150}, kHostileDepth}) {
    const auto error = caught([&] { (void)list.decode(payload(elements)); });
    BOOST_TEST((error.kind() == ErrorKind::invalid_data));
    BOOST_TEST(mentions(error, "nesting deeper than 200 levels"), error.what());
  }
}

BOOST_AUTO_TEST_CASE(union_backtracking_is_bounded) {
  // Both a map of R and R itself accept an object, so each level of {"a": ...} is tried twice
  // and a value no branch takes costs Fibonacci(depth) steps without the budget.
  const std::string node_type =
      R"({"type":"record","name":"R","fields":[{"name":"a","type":["null",{"type":"map","values":"R"},"R"]}]})";
  const std::string unmatched = repeat(R"({"a":)", 100) + "1" + std::string(100, '}');
  const std::string schema = R"({"type":"record","name":"T","fields":[{"name":"t","type":)" +
                             node_type + R"(,"default":)" + unmatched + "}]}";
  const auto error = caught([&] { (void)avro::Schema::parse(schema); });
  BOOST_TEST((error.kind() == ErrorKind::configuration));
  BOOST_TEST(mentions(error, "no union branch matched within"), error.what());

  const auto nodes = avro::Schema::parse(node_type);
  const auto encode_error = caught([&] { (void)nodes.encode(nlohmann::json::parse(unmatched)); });
  BOOST_TEST((encode_error.kind() == ErrorKind::serialization));
  // Values that match still pick their branch: {"a": {"x": {"a": null}}} is a map of R.
  const auto matched = nlohmann::json::parse(R"({"a":{"x":{"a":null}}})");
  BOOST_TEST(nodes.decode(nodes.encode(matched)) == matched);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(protobuf_schemas_and_payloads)

BOOST_AUTO_TEST_CASE(deeply_nested_proto_text_is_refused) {
  const std::string messages = "syntax = \"proto3\";\n" + repeat("message a{", kHostileDepth) +
                               std::string(kHostileDepth, '}');
  const auto error = caught([&] { (void)protobuf::Schema::parse(messages); });
  BOOST_TEST((error.kind() == ErrorKind::configuration));
  BOOST_TEST(mentions(error, "line 2: nesting deeper than 64 levels"), error.what());

  // An aggregate option value nests without message blocks.
  const std::string option =
      "syntax = \"proto3\";\nimport \"google/protobuf/descriptor.proto\";\n"
      "message M { M m = 1; }\n"
      "extend google.protobuf.MessageOptions { M x = 50000; }\n"
      "message T { option (x) = " +
      repeat("{m:", kHostileDepth) + "{}" + std::string(kHostileDepth, '}') + "; }\n";
  BOOST_TEST(mentions(caught([&] { (void)protobuf::Schema::parse(option); }),
                      "line 5: nesting deeper than 64 levels"));

  // Braces in strings and comments do not count.
  const std::string quiet = "syntax = \"proto3\";\n// " + std::string(300, '{') + "\n/* " +
                            std::string(300, '<') + " */\noption java_package = \"" +
                            std::string(300, '[') + "\";\nmessage Q { string s = 1; }\n";
  BOOST_TEST(protobuf::Schema::parse(quiet).message_type() == "Q");
}

BOOST_AUTO_TEST_CASE(payload_nesting_is_limited_explicitly) {
  const auto schema =
      protobuf::Schema::parse("syntax = \"proto3\";\nmessage Node { Node child = 1; }\n");
  // `levels` nested children, built from the inside out: field 1, length-delimited.
  const auto payload = [](std::size_t levels) {
    std::string bytes;
    for (std::size_t i = 0; i < levels; ++i) {
      std::string length;
      for (std::size_t size = bytes.size();; size >>= 7) {
        length += static_cast<char>((size & 0x7F) | (size >= 0x80 ? 0x80 : 0));
        if (size < 0x80) break;
      }
      bytes = "\x0a" + length + bytes;
    }
    return bytes;
  };
  BOOST_TEST(schema.decode(payload(64)).is_object());
  for (const std::size_t levels : {std::size_t{65}, std::size_t{5000}}) {
    const auto error = caught([&] { (void)schema.decode(payload(levels)); });
    BOOST_TEST((error.kind() == ErrorKind::invalid_data));
    BOOST_TEST(mentions(error, "nesting deeper than 64 levels"), error.what());
  }
  // Unknown groups nest too: start-group tags of an unknown field 15.
  const auto groups = std::string(kHostileDepth, '\x7b') + std::string(kHostileDepth, '\x7c');
  BOOST_TEST(
      mentions(caught([&] { (void)schema.decode(groups); }), "nesting deeper than 64 levels"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(toml)

const std::string kCore = "danube_service_url = \"http://broker:6650\"\nconnector_name = \"c\"\n";

ConfigError config_error(const std::string& toml) {
  try {
    ConfigLoader loader;
    loader.environment(Environment()).allow_section("a").allow_section("x");
    (void)loader.load_string(toml, "hostile.toml");
  } catch (const ConfigError& e) {
    return e;
  }
  BOOST_FAIL("expected a ConfigError for:\n" + toml.substr(0, 200));
  throw std::logic_error("unreachable");
}

BOOST_AUTO_TEST_CASE(dotted_keys_and_headers_are_refused_before_parsing) {
  const std::string dotted = kCore + "a" + repeat(".a", kHostileDepth) + " = 1\n";
  const std::string header = kCore + "[a" + repeat(".a", kHostileDepth) + "]\n";
  const std::string array_header = kCore + "[[a" + repeat(".a", kHostileDepth) + "]]\n";
  for (const auto& text : {dotted, header, array_header}) {
    const auto error = config_error(text);
    BOOST_TEST(error.problem() == "TOML nesting deeper than 128 levels");
    BOOST_TEST(error.location() == "hostile.toml:3");
  }
  BOOST_CHECK_THROW((void)ConfigSection::parse(dotted), ConfigError);
}

BOOST_AUTO_TEST_CASE(arrays_and_inline_tables_count_with_their_keys) {
  const auto arrays = [](std::size_t levels) {
    return "x = " + std::string(levels, '[') + std::string(levels, ']') + "\n";
  };
  const auto tables = [](std::size_t levels) {
    return "x = " + repeat("{a.b = ", levels) + "1" + std::string(levels, '}') + "\n";
  };
  BOOST_TEST(ConfigSection::parse(arrays(128)).contains("x"));
  BOOST_TEST(ConfigSection::parse(tables(64)).contains("x"));
  BOOST_TEST(config_error(kCore + arrays(129)).problem() == "TOML nesting deeper than 128 levels");
  BOOST_TEST(config_error(kCore + tables(65)).problem() == "TOML nesting deeper than 128 levels");
  // Below toml++'s own limit of 256 but above ours; its message would not name ours.
  BOOST_TEST(config_error(kCore + arrays(200)).location() == "hostile.toml:3");
}

BOOST_AUTO_TEST_CASE(strings_comments_floats_and_wide_tables_are_not_nesting) {
  const std::string text = kCore + "# " + repeat("[a.", 300) +
                           "\n"
                           "[x]\n"
                           "dots = \"" +
                           repeat("a.", 300) +
                           "\"\n"
                           "literal = '" +
                           repeat("[{.", 300) +
                           "'\n"
                           "multi = \"\"\"\n" +
                           repeat("[{.\\\"\"\n", 100) +
                           "\"\"\"\n"
                           "raw = '''\n" +
                           repeat("[{.''\n", 100) +
                           "'''\n"
                           "floats = [" +
                           repeat("1.5, ", 1000) +
                           "2.5]\n"
                           "when = 1979-05-27T07:32:00.999999Z\n"
                           "wide = [\n" +
                           repeat("  { k.l = 0.5, m = [1.5, [2.5]] },\n", 500) +
                           "]\n"
                           "[x.y.z]\n"
                           "deep.but.fine = 1\n";
  ConfigLoader loader;
  loader.environment(Environment()).allow_section("x");
  const auto config = loader.load_string(text, "fine.toml");
  const auto x = config.section("x");
  BOOST_TEST(x.require_string("dots").size() == 600U);
  BOOST_TEST(x.require_section("y").require_section("z").contains("deep"));
}

BOOST_AUTO_TEST_SUITE_END()
