// Fuzz-style robustness: random and mutated inputs to the TOML loader, the schema parsers and
// the payload decoders must end in a ConnectorError (or succeed), never in a crash, a hang or
// another exception type. Seeds are fixed so a failure is reproducible.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "danube/connect/config_loader.hpp"
#include "danube/connect/serialization.hpp"
#include "danube/connect/sink_record.hpp"
#include "danube/services/avro.hpp"
#include "danube/services/protobuf_schema.hpp"
#include "danube/services/schema_codec.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;

namespace {

constexpr int kIterations = 20000;

class Fuzzer {
 public:
  explicit Fuzzer(std::uint64_t seed) : random_(seed) {}

  std::string random_bytes(std::size_t max_size) {
    std::string bytes(random_() % (max_size + 1), '\0');
    for (auto& c : bytes)
      c = static_cast<char>(random_());
    return bytes;
  }

  // Flips, inserts, deletes and duplicates a few bytes of a valid input: such inputs get past
  // the first checks of a parser, which purely random bytes rarely do.
  std::string mutate(const std::string& input) {
    std::string out = input;
    const int edits = 1 + static_cast<int>(random_() % 8);
    for (int i = 0; i < edits; ++i) {
      const std::size_t at = out.empty() ? 0 : random_() % out.size();
      switch (random_() % 5) {
        case 0:
          if (!out.empty()) out[at] = static_cast<char>(random_());
          break;
        case 1:
          out.insert(at, 1, static_cast<char>(random_()));
          break;
        case 2:
          if (!out.empty()) out.erase(at, 1 + random_() % 4);
          break;
        case 3:
          if (!out.empty()) out.insert(at, out.substr(at, 1 + random_() % 16));
          break;
        case 4:
          out.insert(at, interesting());
          break;
      }
    }
    return out;
  }

 private:
  std::string interesting() {
    static const char* tokens[] = {"[",     "]",       "[[",     "]]", "{",
                                   "}",     "\"",      "=",      ",",  "\n",
                                   "#",     "\\u0000", "\xff",   "-",  "9223372036854775807",
                                   "1e999", "'''",     "\"\"\"", ".",  "null",
                                   "\x80"};
    return tokens[random_() % (sizeof(tokens) / sizeof(tokens[0]))];
  }

  std::mt19937_64 random_;
};

std::string data_file(const std::string& name) {
  std::ifstream in(std::string(DANUBE_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `fn`; a ConnectorError is an acceptable outcome, anything else fails the test.
template <class Fn>
bool survives(Fn&& fn, int& rejected) {
  try {
    fn();
  } catch (const ConnectorError&) {
    ++rejected;
  } catch (const std::exception& e) {
    BOOST_ERROR("unexpected exception type: " << e.what());
    return false;
  }
  return true;
}

const std::string kValidConfig = R"(danube_service_url = "http://broker:6650"
connector_name = "fuzz"
[retry]
max_retries = 3
multiplier = 2.0
[processing]
batch_size = 10
log_level = "info"
[[schemas]]
topic = "/default/t"
subject = "s"
schema_type = "string"
version_strategy = { pinned = 2 }
[dead_letter]
policy = "skip"
[mqtt]
host = "h"
port = 1883
[[mqtt.routes]]
from = "a/#"
to = "/default/a"
)";

}  // namespace

BOOST_AUTO_TEST_CASE(toml_loader_survives_random_and_mutated_input) {
  Fuzzer fuzzer(1);
  ConfigLoader loader;
  loader.allow_section("mqtt").environment(Environment());
  int rejected = 0;
  int accepted = 0;
  bool ok = true;
  for (int i = 0; i < kIterations && ok; ++i) {
    const std::string input = i % 2 == 0 ? fuzzer.random_bytes(256) : fuzzer.mutate(kValidConfig);
    ok = survives(
        [&] {
          const auto config = loader.load_string(input, "fuzz.toml");
          // Reading the connector section must be just as safe.
          if (config.has_section("mqtt")) {
            const auto mqtt = config.section("mqtt");
            (void)mqtt.get_string("host");
            (void)mqtt.get_integer("port");
            for (const auto& route : mqtt.get_sections("routes"))
              (void)route.get_string("from");
          }
          ++accepted;
        },
        rejected);
  }
  BOOST_TEST(ok);
  BOOST_TEST_MESSAGE("toml: " << accepted << " accepted, " << rejected << " rejected");
  BOOST_TEST(accepted + rejected == kIterations);
  BOOST_TEST(accepted > 0);  // the mutations keep some inputs valid: the loop reaches deep code
}

BOOST_AUTO_TEST_CASE(avro_decoder_survives_random_and_mutated_payloads) {
  Fuzzer fuzzer(2);
  const auto schema = avro::Schema::parse(data_file("order.avsc"));
  const auto valid =
      schema.encode(nlohmann::json{{"id", 1},
                                   {"customer", "c"},
                                   {"status", "NEW"},
                                   {"items", {{{"sku", "s"}, {"qty", 1}, {"price", 2.0}}}},
                                   {"tags", {{"k", "v"}}},
                                   {"note", nullptr},
                                   {"digest", "abcd"},
                                   {"raw", "xy"},
                                   {"express", false},
                                   {"weight", 0.5}});
  int rejected = 0;
  bool ok = true;
  for (int i = 0; i < kIterations && ok; ++i) {
    const std::string input = i % 2 == 0 ? fuzzer.random_bytes(128) : fuzzer.mutate(valid);
    ok = survives([&] { (void)schema.decode(input); }, rejected);
  }
  BOOST_TEST(ok);
  BOOST_TEST(rejected > kIterations / 2);
}

BOOST_AUTO_TEST_CASE(avro_schema_parser_survives_mutated_schemas) {
  Fuzzer fuzzer(3);
  const auto valid = data_file("order.avsc");
  int rejected = 0;
  bool ok = true;
  for (int i = 0; i < kIterations && ok; ++i) {
    ok = survives(
        [&] {
          const auto schema = avro::Schema::parse(fuzzer.mutate(valid));
          (void)schema.decode(fuzzer.random_bytes(64));
        },
        rejected);
  }
  BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(protobuf_decoder_survives_random_and_mutated_payloads) {
  Fuzzer fuzzer(4);
  const auto schema = protobuf::Schema::parse(data_file("order.proto"), "shop.Order");
  const auto valid = schema.encode(nlohmann::json{{"id", "7"},
                                                  {"customer", "c"},
                                                  {"items", {{{"sku", "s"}, {"qty", 3}}}},
                                                  {"tags", {{"k", "v"}}},
                                                  {"created", "2026-01-01T00:00:00Z"}});
  int rejected = 0;
  bool ok = true;
  for (int i = 0; i < kIterations && ok; ++i) {
    const std::string input = i % 2 == 0 ? fuzzer.random_bytes(128) : fuzzer.mutate(valid);
    ok = survives([&] { (void)schema.decode(input); }, rejected);
  }
  BOOST_TEST(ok);
  BOOST_TEST(rejected > 0);
}

BOOST_AUTO_TEST_CASE(protobuf_schema_parser_survives_mutated_definitions) {
  Fuzzer fuzzer(5);
  const auto valid = data_file("order.proto");
  int rejected = 0;
  bool ok = true;
  for (int i = 0; i < kIterations && ok; ++i) {
    ok = survives([&] { (void)protobuf::Schema::parse(fuzzer.mutate(valid)); }, rejected);
  }
  BOOST_TEST(ok);
  BOOST_TEST(rejected > 0);
}

BOOST_AUTO_TEST_CASE(primitive_decoders_and_typed_views_survive_random_bytes) {
  Fuzzer fuzzer(6);
  const auto json_codec = SchemaCodec::create(SchemaType::json_schema, "");
  const auto string_codec = SchemaCodec::create(SchemaType::string, "");
  const auto number_codec = SchemaCodec::create(SchemaType::number, "");
  int rejected = 0;
  bool ok = true;
  const std::string valid_json = R"({"a":[1,2.5,"x",{"b":null}],"c":true})";
  for (int i = 0; i < kIterations && ok; ++i) {
    const std::string input = i % 2 == 0 ? fuzzer.random_bytes(96) : fuzzer.mutate(valid_json);
    const auto record = SinkRecordBuilder().payload(input).build();
    ok = survives([&] { (void)json_codec->decode(input); }, rejected) &&
         survives([&] { (void)string_codec->decode(input); }, rejected) &&
         survives([&] { (void)number_codec->decode(input); }, rejected) &&
         survives([&] { (void)record.as_json(); }, rejected) &&
         survives([&] { (void)record.as_string(); }, rejected) &&
         survives([&] { (void)record.as_number(); }, rejected) &&
         survives([&] { (void)record.as_integer(); }, rejected) &&
         survives([&] { (void)serialization::base64_decode(input); }, rejected);
  }
  BOOST_TEST(ok);
}
