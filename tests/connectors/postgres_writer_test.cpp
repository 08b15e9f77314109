// PostgresSink::process_batch in this process against a real PostgreSQL server: which records of
// a batch fail, exactly, when unmappable records, rows the server refuses and redeliveries are
// mixed into batches large enough that the server refuses the direct COPY while rows are still
// being mapped and sent.
#include <boost/test/unit_test.hpp>
#include <set>

#include "chaos_support.hpp"
#include "danube/connect/config_section.hpp"
#include "danube/connect/connector_context.hpp"
#include "danube/connect/sink_record.hpp"
#include "postgres_sink.hpp"
#include "postgres_test_support.hpp"

using namespace danube;
using namespace danube::postgres_test;

namespace {

constexpr std::size_t kRecords = 4000;  // ~600 KB of COPY data: far beyond libpq's buffer
const std::set<std::size_t> kUnmappable{3, 1999, 3998};
const std::set<std::size_t> kNegative{10, 2500, 3999};  // break CHECK (amount >= 0)

std::string payload(std::size_t n) {
  if (kUnmappable.contains(n)) return "not json " + std::to_string(n);
  const long amount = kNegative.contains(n) ? -1 : static_cast<long>(n);
  return R"({"n":)" + std::to_string(n) + R"(,"amount":)" + std::to_string(amount) +
         R"(,"note":"padding so that rows are about one hundred and fifty bytes long"})";
}

std::vector<connect::SinkRecord> numbered_records(std::size_t first, std::size_t count) {
  std::vector<connect::SinkRecord> records;
  connect::SinkRecordBuilder builder;
  builder.topic("/default/writer").partition_topic("/default/writer");
  for (std::size_t n = first; n < first + count; ++n)
    records.push_back(builder.payload(payload(n)).offset(n).build());
  return records;
}

std::set<std::size_t> failed(const connect::BatchResult& result, std::size_t first) {
  std::set<std::size_t> numbers;
  for (const auto index : result.failed_indices())
    numbers.insert(first + index);
  return numbers;
}

struct Writer {
  explicit Writer(const std::string& method)
      : scratch("pg-writer-" + method), server(scratch.path() / "pg") {
    server.start();
    server.query(
        "CREATE TABLE payments (n bigint, amount numeric CHECK (amount >= 0), payload jsonb, "
        "danube_topic text, danube_partition integer, danube_offset bigint, "
        "danube_publish_time timestamptz, danube_routing_key text, danube_attributes jsonb, "
        "UNIQUE (danube_topic, danube_partition, danube_offset))");
    connect::ConnectorConfig config;
    config.connector_name = "pg-writer";
    config.custom_sections = connect::ConfigSection::parse(
        "[postgres]\nconnection = \"" + server.tcp_connection() +
            "\"\npassword_env = \"PG_WRITER_PASSWORD\"\ninsert_method = \"" + method +
            "\"\n[[postgres.routes]]\nfrom = \"/default/writer\"\nto = \"payments\"\n"
            "[[postgres.routes.columns]]\ncolumn = \"n\"\ntype = \"bigint\"\n"
            "[[postgres.routes.columns]]\ncolumn = \"amount\"\ntype = \"numeric\"\n",
        "writer.toml");
    context.emplace(connect::ConnectorContext::standalone(config));
    sink.initialize(*context);
  }
  ~Writer() { sink.shutdown(); }

  chaos::ScratchDirectory scratch;
  PostgresServer server;
  std::optional<connect::ConnectorContext> context;
  sink_postgres::PostgresSink sink{[](std::string_view name) -> std::optional<std::string> {
    if (name == "PG_WRITER_PASSWORD") return std::string(kPassword);
    return std::nullopt;
  }};
};

}  // namespace

BOOST_AUTO_TEST_CASE(exactly_the_bad_records_of_a_large_batch_fail_and_the_rest_commit) {
  for (const std::string method : {"copy", "insert"}) {
    BOOST_TEST_CONTEXT("insert_method = " << method) {
      Writer writer(method);
      std::set<std::size_t> bad = kUnmappable;
      bad.insert(kNegative.begin(), kNegative.end());

      const auto records = numbered_records(0, kRecords);
      const auto first = writer.sink.process_batch(records);
      BOOST_TEST(failed(first, 0) == bad);
      for (const auto index : first.failed_indices()) {
        BOOST_TEST((first.error(index)->kind() == connect::ErrorKind::invalid_data));
      }
      const auto written = static_cast<std::int64_t>(kRecords - bad.size());
      BOOST_TEST(writer.server.count("payments") == written);

      // A redelivery of the second half with new records after it: the rows already written
      // are skipped, the same bad records fail again, the new ones are written once.
      const auto again = numbered_records(kRecords / 2, kRecords);
      const auto second = writer.sink.process_batch(again);
      std::set<std::size_t> bad_again;
      for (const auto n : bad) {
        if (n >= kRecords / 2) bad_again.insert(n);
      }
      BOOST_TEST(failed(second, kRecords / 2) == bad_again);
      BOOST_TEST(writer.server.count("payments") ==
                 static_cast<std::int64_t>(kRecords / 2 * 3 - bad.size()));
      BOOST_TEST(writer.server.value("SELECT count(DISTINCT danube_offset) = count(*) FROM "
                                     "payments") == "t");
    }
  }
}
