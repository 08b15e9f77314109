// Errors, batch results, records and the serialization helpers of danube_connect.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <stdexcept>

#include "danube/connect/batch_result.hpp"
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/error_type.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/connect/serialization.hpp"
#include "danube/connect/sink_connector.hpp"
#include "danube/connect/sink_record.hpp"
#include "danube/connect/source_connector.hpp"
#include "danube/connect/source_record.hpp"
#include "danube/connect/testing.hpp"
#include "danube/services/dead_letter.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;
namespace ser = danube::connect::serialization;

namespace {

using danube::connect::test::caught;

}  // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(factories_set_kind_message_and_text) {
  const auto error = ConnectorError::invalid_data("field 'id' missing");
  BOOST_TEST(error.kind() == ErrorKind::invalid_data);
  BOOST_TEST(error.message() == "field 'id' missing");
  BOOST_TEST(std::string(error.what()) == "invalid_data: field 'id' missing");
  BOOST_TEST(error.is_invalid_data());
  BOOST_TEST(!error.is_retryable());
  BOOST_TEST(!error.cause().has_value());

  BOOST_TEST(ConnectorError::retryable("x").kind() == ErrorKind::retryable);
  BOOST_TEST(ConnectorError::fatal("x").kind() == ErrorKind::fatal);
  BOOST_TEST(ConnectorError::configuration("x").kind() == ErrorKind::configuration);
  BOOST_TEST(ConnectorError::serialization("x").kind() == ErrorKind::serialization);
  BOOST_TEST(ConnectorError::io("x").kind() == ErrorKind::io);
}

BOOST_AUTO_TEST_CASE(only_retryable_is_retryable) {
  BOOST_TEST(ConnectorError::retryable("timeout").is_retryable());
  for (auto error : {ConnectorError::fatal("a"), ConnectorError::invalid_data("b"),
                     ConnectorError::configuration("c"), ConnectorError::serialization("d"),
                     ConnectorError::io("e"),
                     ConnectorError::danube(danube::client::Error::from_grpc_status(14, "down"))}) {
    BOOST_TEST(!error.is_retryable(), error.what());
  }
}

BOOST_AUTO_TEST_CASE(cause_is_kept_as_text_and_exception) {
  auto error = ConnectorError::retryable("write failed");
  error.with_cause("connection reset");
  BOOST_TEST(error.cause().value() == "connection reset");
  BOOST_TEST(std::string(error.what()) == "retryable: write failed (caused by: connection reset)");

  std::exception_ptr original;
  try {
    throw std::runtime_error("disk full");
  } catch (...) {
    original = std::current_exception();
  }
  const auto with_exception = ConnectorError::io("flush").with_cause(original);
  BOOST_TEST(with_exception.cause().value() == "disk full");
  BOOST_CHECK_THROW(std::rethrow_exception(with_exception.cause_exception()), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(danube_errors_wrap_the_client_error) {
  const auto client_error = danube::client::Error::from_grpc_status(5, "topic /a/b not found");
  const auto error = ConnectorError::danube(client_error, "subscribe /a/b");
  BOOST_TEST(error.kind() == ErrorKind::danube);
  BOOST_REQUIRE(error.client_error().has_value());
  BOOST_TEST(error.client_error()->category() == danube::client::ErrorCategory::not_found);
  BOOST_TEST(std::string(error.what()).find("subscribe /a/b: ") != std::string::npos);
  BOOST_TEST(std::string(error.what()).find("topic /a/b not found") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usable_as_an_exception) {
  const auto error = caught([] { throw ConnectorError::fatal("boom"); });
  BOOST_TEST(error.is_fatal());
  try {
    throw ConnectorError::retryable("again");
  } catch (const std::exception& e) {
    BOOST_TEST(std::string(e.what()) == "retryable: again");
  }
}

BOOST_AUTO_TEST_CASE(foreign_exceptions_become_fatal) {
  ConnectorError from_std = ConnectorError::io("unset");
  try {
    throw std::out_of_range("index 7");
  } catch (...) {
    from_std = error_from_current_exception("process_batch");
  }
  BOOST_TEST(from_std.is_fatal());
  BOOST_TEST(from_std.cause().value() == "index 7");
  BOOST_TEST(from_std.message().find("process_batch") != std::string::npos);

  ConnectorError kept = ConnectorError::io("unset");
  try {
    throw ConnectorError::retryable("keep me");
  } catch (...) {
    kept = error_from_current_exception("poll");
  }
  BOOST_TEST(kept.is_retryable());
  BOOST_TEST(kept.message() == "keep me");

  ConnectorError odd = ConnectorError::io("unset");
  try {
    throw 42;
  } catch (...) {
    odd = error_from_current_exception("poll");
  }
  BOOST_TEST(odd.is_fatal());
}

BOOST_AUTO_TEST_CASE(error_type_labels_are_bounded_and_distinct) {
  std::set<std::string> labels;
  for (int i = 0; i < kErrorTypeCount; ++i) {
    const auto label = std::string(to_string(static_cast<ErrorType>(i)));
    BOOST_TEST(!label.empty());
    BOOST_TEST(label.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
    labels.insert(label);
  }
  BOOST_TEST(labels.size() == static_cast<std::size_t>(kErrorTypeCount));
  BOOST_TEST(to_string(error_type_of(ErrorKind::invalid_data)) == "invalid_data");
  BOOST_TEST(to_string(error_type_of(ErrorKind::danube)) == "danube");
  BOOST_TEST(to_string(error_type_of(ConnectorError::retryable("x"))) == "retryable");
  BOOST_TEST(to_string(ErrorKind::configuration) == "configuration");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(batch_results)

BOOST_AUTO_TEST_CASE(all_ok_and_per_record_failures) {
  auto result = BatchResult::all_ok(4);
  BOOST_TEST(result.size() == 4u);
  BOOST_TEST(result.all_succeeded());
  result.fail(1, ConnectorError::invalid_data("bad record"));
  result.fail(3, ConnectorError::retryable("later"));
  BOOST_TEST(!result.all_succeeded());
  BOOST_TEST(result.failure_count() == 2u);
  BOOST_TEST(result.ok(0));
  BOOST_TEST(!result.ok(1));
  BOOST_TEST(result.error(0) == nullptr);
  BOOST_REQUIRE(result.error(1) != nullptr);
  BOOST_TEST(result.error(1)->is_invalid_data());
  BOOST_TEST((result.failed_indices() == std::vector<std::size_t>{1, 3}));
  result.succeed(3);
  BOOST_TEST(result.failure_count() == 1u);
  BOOST_CHECK_THROW(result.fail(4, ConnectorError::fatal("x")), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(all_failed_marks_every_record) {
  const auto result = BatchResult::all_failed(3, ConnectorError::retryable("db down"));
  BOOST_TEST(result.failure_count() == 3u);
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_TEST(result.error(i)->is_retryable());
}

class OddRecordsFail : public RecordSinkConnector {
 public:
  void initialize(const ConnectorContext&) override {}
  std::vector<ConsumerConfig> consumer_configs() override { return {}; }
  void process(const SinkRecord& record) override {
    ++calls;
    const auto n = record.as_integer();
    if (n == 99) throw ConnectorError::fatal("disk gone");
    if (n % 2 == 1) throw ConnectorError::invalid_data("odd " + std::to_string(n));
  }
  int calls = 0;
};

BOOST_AUTO_TEST_CASE(record_sink_connector_reports_per_record) {
  std::vector<SinkRecord> records;
  for (int i = 0; i < 5; ++i) {
    records.push_back(SinkRecordBuilder().topic("/default/n").payload(std::to_string(i)).build());
  }
  OddRecordsFail connector;
  const auto result = connector.process_batch(records);
  BOOST_TEST(connector.calls == 5);
  BOOST_TEST((result.failed_indices() == std::vector<std::size_t>{1, 3}));
  BOOST_TEST(result.error(3)->message() == "odd 3");
}

BOOST_AUTO_TEST_CASE(a_fatal_record_stops_the_rest_of_the_batch) {
  std::vector<SinkRecord> records;
  for (const char* n : {"2", "99", "4", "6"}) {
    records.push_back(SinkRecordBuilder().topic("/default/n").payload(n).build());
  }
  OddRecordsFail connector;
  const auto result = connector.process_batch(records);
  BOOST_TEST(connector.calls == 2);
  BOOST_TEST(result.ok(0));
  for (std::size_t i = 1; i < 4; ++i)
    BOOST_TEST(result.error(i)->is_fatal());
}

// Fails record 1 of partition 0 with a retryable error.
class FlakyFirstPartition : public RecordSinkConnector {
 public:
  void initialize(const ConnectorContext&) override {}
  std::vector<ConsumerConfig> consumer_configs() override { return {}; }
  void process(const SinkRecord& record) override {
    processed.push_back(std::string(record.as_string()));
    if (record.as_string() == "p0-1") throw ConnectorError::retryable("timeout");
  }
  std::vector<std::string> processed;
};

BOOST_AUTO_TEST_CASE(a_retryable_failure_defers_the_rest_of_its_partition_only) {
  std::vector<SinkRecord> records;
  for (const char* p : {"p0-0", "p1-0", "p0-1", "p1-1", "p0-2", "p1-2"}) {
    const std::string partition = std::string("/default/t-part-") + p[1];
    records.push_back(SinkRecordBuilder().partition_topic(partition).payload(p).build());
  }
  FlakyFirstPartition connector;
  const auto result = connector.process_batch(records);
  BOOST_TEST(
      (connector.processed == std::vector<std::string>{"p0-0", "p1-0", "p0-1", "p1-1", "p1-2"}));
  BOOST_TEST(result.error(2)->is_retryable());
  BOOST_TEST(result.deferred(4));  // p0-2 waits behind p0-1
  BOOST_TEST(!result.ok(4));
  BOOST_TEST(result.error(4) == nullptr);
  BOOST_TEST(result.ok(5));
  BOOST_TEST(result.deferred_count() == 1u);
  BOOST_TEST(result.failure_count() == 1u);
}

class PollOnly : public SourceConnector {
 public:
  void initialize(const ConnectorContext&) override {}
  std::vector<ProducerConfig> producer_configs() override { return {}; }
};

BOOST_AUTO_TEST_CASE(source_defaults_follow_the_seed) {
  PollOnly source;
  BOOST_TEST((source.mode() == SourceMode::polling));
  const auto poll_error = caught([&] { source.poll(); });
  BOOST_TEST(poll_error.kind() == ErrorKind::configuration);
  BOOST_TEST(poll_error.message().find("does not override poll()") != std::string::npos);
  auto channel = std::make_shared<danube::connect::testing::RecordingSourceChannel>();
  const auto stream_error = caught([&] { source.start_streaming(SourceSender(channel)); });
  BOOST_TEST(stream_error.kind() == ErrorKind::configuration);
  BOOST_CHECK_NO_THROW(source.commit({Offset("p", 1)}));
  BOOST_CHECK_NO_THROW(source.health_check());
  BOOST_CHECK_NO_THROW(source.shutdown());
  BOOST_TEST(to_string(SourceMode::streaming) == "streaming");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sink_records)

BOOST_AUTO_TEST_CASE(builder_fills_every_field) {
  const auto record = SinkRecordBuilder()
                          .topic("/default/orders")
                          .partition_topic("/default/orders-part-2")
                          .payload(R"({"id":7})")
                          .offset(41)
                          .message_id({9, "/default/orders-part-2", "broker-1:6650", 41})
                          .publish_time_us(1'700'000'000'123'456)
                          .producer_name("orders-producer")
                          .subscription("orders-sub")
                          .routing_key("customer-3")
                          .attribute("source", "web")
                          .attribute("trace", "abc")
                          .schema({12, 3, "orders-value", SchemaType::json_schema})
                          .build();
  BOOST_TEST(record.topic() == "/default/orders");
  BOOST_TEST(record.partition_topic() == "/default/orders-part-2");
  BOOST_TEST(record.partition().value() == 2u);
  BOOST_TEST(record.offset() == 41u);
  BOOST_TEST(record.message_id().producer_id == 9u);
  BOOST_TEST(record.message_id().broker_addr == "broker-1:6650");
  BOOST_TEST(record.publish_time_us() == 1'700'000'000'123'456u);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::microseconds>(
                 record.publish_time().time_since_epoch())
                 .count() == 1'700'000'000'123'456);
  BOOST_TEST(record.producer_name() == "orders-producer");
  BOOST_TEST(record.subscription() == "orders-sub");
  BOOST_TEST(record.routing_key().value() == "customer-3");
  BOOST_TEST(record.attribute("source").value() == "web");
  BOOST_TEST(record.has_attribute("trace"));
  BOOST_TEST(!record.has_attribute("missing"));
  BOOST_TEST(record.attributes().size() == 2u);
  BOOST_TEST(record.schema()->subject == "orders-value");
  BOOST_TEST(record.schema()->version == 3u);
}

BOOST_AUTO_TEST_CASE(builder_defaults_derive_topics_and_message_id) {
  const auto from_partition =
      SinkRecordBuilder().partition_topic("/ns/t-part-0").offset(5).payload("x").build();
  BOOST_TEST(from_partition.topic() == "/ns/t");
  BOOST_TEST(from_partition.partition().value() == 0u);
  BOOST_TEST(from_partition.message_id().topic_name == "/ns/t-part-0");
  BOOST_TEST(from_partition.message_id().topic_offset == 5u);

  const auto plain = SinkRecordBuilder().topic("/ns/t").payload("x").build();
  BOOST_TEST(plain.partition_topic() == "/ns/t");
  BOOST_TEST(!plain.partition().has_value());
  BOOST_TEST(!plain.routing_key().has_value());
  BOOST_TEST(!plain.schema().has_value());
  BOOST_TEST(plain.decoded_value() == nullptr);

  const SinkRecord empty;
  BOOST_TEST(empty.payload().empty());
  BOOST_TEST(empty.topic().empty());
}

BOOST_AUTO_TEST_CASE(a_builder_moved_into_build_gives_the_record_a_kept_one_gives) {
  SinkRecordBuilder builder;
  builder.partition_topic("/ns/t-part-1")
      .offset(8)
      .payload(R"({"n":1})")
      .producer_name("a-producer-name-longer-than-short-strings")
      .attribute("k", "v");
  const auto copied = builder.build();
  const auto reused = builder.build();  // a kept builder keeps its settings
  const auto moved = std::move(builder).build();
  // Checked after the move: the records built before it keep their settings.
  for (const auto* record : {&copied, &reused, &moved}) {
    BOOST_TEST(record->topic() == "/ns/t");
    BOOST_TEST(record->partition_topic() == "/ns/t-part-1");
    BOOST_TEST(record->partition().value() == 1u);
    BOOST_TEST(record->message_id().topic_name == "/ns/t-part-1");
    BOOST_TEST(record->message_id().topic_offset == 8u);
    BOOST_TEST(record->as_string() == R"({"n":1})");
    BOOST_TEST(record->producer_name() == "a-producer-name-longer-than-short-strings");
    BOOST_TEST(record->attribute("k").value() == "v");
  }
}

BOOST_AUTO_TEST_CASE(typed_views) {
  const auto text = SinkRecordBuilder().payload("héllo").build();
  BOOST_TEST(text.as_string() == "héllo");

  const auto json = SinkRecordBuilder().payload(R"({"a":[1,2,{"b":null}]})").build();
  BOOST_TEST(json.as_json()["a"][1] == 2);

  const auto number = SinkRecordBuilder().payload(" -12.5 ").build();
  BOOST_TEST(number.as_number() == -12.5);
  BOOST_TEST(SinkRecordBuilder().payload("9007199254740993").build().as_integer() ==
             9007199254740993);

  const std::string binary("\x00\xff\x10", 3);
  const auto bytes = SinkRecordBuilder().payload(binary).build();
  BOOST_TEST(bytes.as_bytes().size() == 3u);
  BOOST_TEST(bytes.as_bytes()[1] == 0xff);
}

BOOST_AUTO_TEST_CASE(bad_views_are_invalid_data) {
  const auto binary = SinkRecordBuilder().payload(std::string("\xc3\x28", 2)).build();
  BOOST_TEST(caught([&] { (void)binary.as_string(); }).is_invalid_data());
  BOOST_TEST(caught([&] { (void)binary.as_json(); }).is_invalid_data());
  const auto words = SinkRecordBuilder().payload("not json").build();
  BOOST_TEST(caught([&] { (void)words.as_json(); }).is_invalid_data());
  BOOST_TEST(caught([&] { (void)words.as_number(); }).is_invalid_data());
  const auto object = SinkRecordBuilder().payload(R"({"n":1})").build();
  BOOST_TEST(caught([&] { (void)object.as_number(); }).is_invalid_data());
  const auto fraction = SinkRecordBuilder().payload("1.5").build();
  BOOST_TEST(caught([&] { (void)fraction.as_integer(); }).is_invalid_data());
  const auto huge = SinkRecordBuilder().payload("99999999999999999999").build();
  BOOST_TEST(caught([&] { (void)huge.as_integer(); }).is_invalid_data());
}

BOOST_AUTO_TEST_CASE(decoded_value_takes_precedence) {
  // An Avro payload is not JSON text; the schema's decoded value is what as_json returns.
  const auto record = SinkRecordBuilder()
                          .payload(std::string("\x02\x06"
                                               "abc",
                                               5))
                          .decoded_value({{"name", "abc"}})
                          .build();
  BOOST_REQUIRE(record.decoded_value() != nullptr);
  BOOST_TEST(record.as_json()["name"] == "abc");
  const auto number = SinkRecordBuilder().payload("ignored").decoded_value(3).build();
  BOOST_TEST(number.as_number() == 3.0);
  BOOST_TEST(number.as_integer() == 3);
}

BOOST_AUTO_TEST_CASE(copies_share_the_payload) {
  const auto record = SinkRecordBuilder().payload(std::string(1 << 20, 'x')).build();
  const SinkRecord copy = record;
  BOOST_TEST(copy.payload().view().data() == record.payload().view().data());
  auto builder = SinkRecordBuilder().payload("one");
  const auto first = builder.build();
  builder.payload("two");
  const auto second = builder.build();
  BOOST_TEST(first.payload().str() == "one");
  BOOST_TEST(second.payload().str() == "two");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(source_records)

BOOST_AUTO_TEST_CASE(from_string_is_raw_utf8_not_json_quoted) {
  const auto record = SourceRecord::from_string("/default/events", "hello \"world\"");
  BOOST_TEST(record.payload().str() == "hello \"world\"");
  BOOST_TEST(record.topic() == "/default/events");
  BOOST_TEST((record.content_kind() == ContentKind::text));
  BOOST_TEST(record.json_value() == nullptr);
  BOOST_TEST(caught([] { SourceRecord::from_string("", std::string("\xff\xfe", 2)); }).kind() ==
             ErrorKind::serialization);
}

BOOST_AUTO_TEST_CASE(from_json_is_compact_and_keeps_the_value) {
  const auto record = SourceRecord::from_json("", {{"id", 1}, {"tags", {"a", "b"}}});
  BOOST_TEST(record.payload().str() == R"({"id":1,"tags":["a","b"]})");
  BOOST_REQUIRE(record.json_value() != nullptr);
  BOOST_TEST((*record.json_value())["id"] == 1);
  BOOST_TEST(record.topic().empty());
  const nlohmann::json bad = std::string("\xff", 1);
  BOOST_TEST(caught([&] { SourceRecord::from_json("", bad); }).kind() == ErrorKind::serialization);
}

BOOST_AUTO_TEST_CASE(from_number_writes_json_numbers) {
  BOOST_TEST(SourceRecord::from_number("", 42).payload().str() == "42");
  BOOST_TEST(SourceRecord::from_number("", -7L).payload().str() == "-7");
  BOOST_TEST(SourceRecord::from_number("", 18446744073709551615ULL).payload().str() ==
             "18446744073709551615");
  BOOST_TEST(SourceRecord::from_number("", 2.5).payload().str() == "2.5");
  BOOST_TEST(SourceRecord::from_number("", 2.5f).payload().str() == "2.5");
  BOOST_TEST((SourceRecord::from_number("", 1).content_kind() == ContentKind::number));
  BOOST_TEST(caught([] { SourceRecord::from_number("", std::nan("")); }).kind() ==
             ErrorKind::serialization);
  BOOST_TEST(caught([] {
               SourceRecord::from_number("", std::numeric_limits<double>::infinity());
             }).kind() == ErrorKind::serialization);
}

BOOST_AUTO_TEST_CASE(from_bytes_keeps_raw_bytes) {
  const std::vector<std::uint8_t> bytes{0, 1, 2, 255};
  const auto record = SourceRecord::from_bytes("/default/bin", bytes);
  BOOST_TEST(record.payload().size() == 4u);
  BOOST_TEST(record.payload().to_vector() == bytes);
  BOOST_TEST((record.content_kind() == ContentKind::bytes));
  BOOST_TEST(SourceRecord::from_bytes("", std::string("\0a", 2)).payload().size() == 2u);
}

BOOST_AUTO_TEST_CASE(builders_chain_on_temporaries_and_lvalues) {
  auto record = SourceRecord::from_string("/default/a", "x")
                    .with_attribute("k1", "v1")
                    .with_attributes({{"k2", "v2"}, {"k1", "override"}})
                    .with_key("device-7");
  BOOST_TEST(record.attributes().at("k1") == "override");
  BOOST_TEST(record.attributes().at("k2") == "v2");
  BOOST_TEST(record.key().value() == "device-7");
  record.with_topic("/default/b").with_attribute("k3", "v3");
  BOOST_TEST(record.topic() == "/default/b");
  BOOST_TEST(record.attributes().size() == 3u);

  const SourceEnvelope plain(record);
  BOOST_TEST(!plain.offset.has_value());
  const SourceEnvelope tracked(record, Offset("sensors/1", 17, "etag-9"));
  BOOST_TEST(tracked.offset.value() == Offset("sensors/1", 17, "etag-9"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_configs)

BOOST_AUTO_TEST_CASE(subscription_type_spellings) {
  BOOST_TEST((parse_subscription_type("Exclusive") == SubscriptionType::exclusive));
  BOOST_TEST((parse_subscription_type("shared") == SubscriptionType::shared));
  BOOST_TEST((parse_subscription_type("FailOver") == SubscriptionType::failover));
  BOOST_TEST((parse_subscription_type("Failover") == SubscriptionType::failover));
  BOOST_TEST((parse_subscription_type("KeyShared") == SubscriptionType::key_shared));
  BOOST_TEST((parse_subscription_type("key_shared") == SubscriptionType::key_shared));
  BOOST_TEST(!parse_subscription_type("broadcast").has_value());
  BOOST_TEST(to_string(SubscriptionType::key_shared) == "KeyShared");
}

BOOST_AUTO_TEST_CASE(consumer_config_validation) {
  ConsumerConfig config{"/default/orders", "c1", "sub", SubscriptionType::shared, {}, {}};
  BOOST_CHECK_NO_THROW(validate(config));
  auto bad_topic = config;
  bad_topic.topic = "default/orders";
  BOOST_TEST(caught([&] { validate(bad_topic); }).message().find("not a valid Danube topic") !=
             std::string::npos);
  auto dotted = config;
  dotted.topic = "/default/orders.v1";
  BOOST_TEST(caught([&] { validate(dotted); }).kind() == ErrorKind::configuration);
  auto no_name = config;
  no_name.consumer_name.clear();
  BOOST_TEST(caught([&] { validate(no_name); }).message().find("consumer_name") !=
             std::string::npos);
  auto no_sub = config;
  no_sub.subscription.clear();
  BOOST_TEST(caught([&] { validate(no_sub); }).message().find("subscription") != std::string::npos);
  auto filters = config;
  filters.key_filters = {"k"};
  BOOST_TEST(caught([&] { validate(filters); }).message().find("KeyShared") != std::string::npos);
  filters.subscription_type = SubscriptionType::key_shared;
  BOOST_CHECK_NO_THROW(validate(filters));
}

BOOST_AUTO_TEST_CASE(default_producer_names_follow_the_seed) {
  BOOST_TEST(default_producer_name("mqtt-iot-source", "/iot/debug") ==
             "mqtt-iot-source--iot-debug");
}

BOOST_AUTO_TEST_CASE(dead_letter_attributes_explain_the_failure_and_keep_the_original_ones) {
  Attributes attributes{{"trace", "t-1"}, {"dlq.stage", "stale"}};
  DeadLetterOrigin origin;
  origin.connector = "orders-sink";
  origin.stage = "process";
  origin.topic = "/default/orders";
  origin.partition_topic = "/default/orders-part-1";
  origin.offset = "77";
  origin.attempts = 4;
  origin.first_failure =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  origin.last_failure = origin.first_failure + std::chrono::milliseconds(2500);
  const auto error =
      ConnectorError::invalid_data("field 'id' missing " + std::string(3000, 'x') + "\xff");
  add_dead_letter_attributes(attributes, origin, error);
  namespace attr = dead_letter_attribute;
  auto at = [&](std::string_view name) { return attributes.at(std::string(name)); };
  BOOST_TEST(attributes.at("trace") == "t-1");
  BOOST_TEST(at(attr::stage) == "process");  // ours win over a stale attribute of the same name
  BOOST_TEST(at(attr::error_kind) == "invalid_data");
  BOOST_TEST(at(attr::error_message).starts_with("invalid_data: field 'id' missing"));
  BOOST_TEST(at(attr::error_message).size() <= kDeadLetterErrorMaxBytes);
  BOOST_TEST(ser::is_valid_utf8(at(attr::error_message)));
  BOOST_TEST(at(attr::connector) == "orders-sink");
  BOOST_TEST(at(attr::origin_topic) == "/default/orders");
  BOOST_TEST(at(attr::origin_partition) == "/default/orders-part-1");
  BOOST_TEST(at(attr::offset) == "77");
  BOOST_TEST(at(attr::attempts) == "4");
  BOOST_TEST(at(attr::first_failure) == "2023-11-14T22:13:20.123Z");
  BOOST_TEST(at(attr::last_failure) == "2023-11-14T22:13:22.623Z");
}

BOOST_AUTO_TEST_CASE(producer_config_validation) {
  ProducerConfig config("/default/out", 4, true);
  BOOST_CHECK_NO_THROW(validate(config));
  config.partitions = 20000;
  BOOST_TEST(caught([&] { validate(config); }).message().find("partitions") != std::string::npos);
  config.partitions = 0;
  config.schema = SchemaConfig{"out-value", SchemaType::avro, "", true, {}, ""};
  BOOST_TEST(caught([&] { validate(config); }).message().find("schema_file") != std::string::npos);
  config.schema->schema_type = SchemaType::string;
  BOOST_CHECK_NO_THROW(validate(config));
  config.schema->subject.clear();
  BOOST_TEST(caught([&] { validate(config); }).message().find("subject") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(serialization_helpers)

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    BOOST_TEST(ser::base64_encode(std::string_view(plain)) == encoded);
    BOOST_TEST(ser::base64_decode(encoded) == plain);
  }
}

BOOST_AUTO_TEST_CASE(base64_round_trips_random_bytes) {
  std::mt19937 random(7);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(random() % 64, '\0');
    for (auto& c : bytes)
      c = static_cast<char>(random());
    BOOST_TEST(ser::base64_decode(ser::base64_encode(std::string_view(bytes))) == bytes);
  }
}

BOOST_AUTO_TEST_CASE(base64_rejects_malformed_text) {
  for (const char* bad : {"Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "Zh==", "Zm9=", "=Zm9"}) {
    BOOST_TEST(caught([&] { ser::base64_decode(bad); }).is_invalid_data(), bad);
  }
}

BOOST_AUTO_TEST_CASE(utf8_validation) {
  BOOST_TEST(ser::is_valid_utf8("plain ascii"));
  BOOST_TEST(ser::is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  BOOST_TEST(!ser::is_valid_utf8("\xc0\xaf"));                             // overlong '/'
  BOOST_TEST(!ser::is_valid_utf8("\xed\xa0\x80"));                         // surrogate
  BOOST_TEST(!ser::is_valid_utf8("\xf4\x90\x80\x80"));                     // > U+10FFFF
  BOOST_TEST(!ser::is_valid_utf8("\xe2\x82"));                             // truncated
  BOOST_TEST(!ser::is_valid_utf8("\x80"));                                 // lone continuation
  BOOST_TEST(!ser::is_valid_utf8("\xff"));
}

BOOST_AUTO_TEST_CASE(json_and_number_helpers) {
  const auto value = ser::json_from_bytes(std::string_view(R"([1,"two",{"3":null}])"));
  BOOST_TEST(ser::json_to_bytes(value) == R"([1,"two",{"3":null}])");
  BOOST_TEST(caught([] { ser::json_from_bytes(std::string_view("[1,")); }).is_invalid_data());
  BOOST_TEST(
      caught([] { ser::json_from_bytes(std::string_view("{} trailing")); }).is_invalid_data());
  BOOST_TEST(ser::number_from_bytes("1e3") == 1000.0);
  BOOST_TEST(ser::integer_from_bytes("-42") == -42);
  BOOST_TEST(ser::number_to_bytes(0.1) == "0.1");
  BOOST_TEST(caught([] { ser::number_to_bytes(std::nan("")); }).kind() == ErrorKind::serialization);
  BOOST_TEST(ser::json_to_pretty_string({{"a", 1}}).find('\n') != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
