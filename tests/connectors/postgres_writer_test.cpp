// PostgresSink::process_batch in this process against a real PostgreSQL server: which records of
// a batch fail, exactly, when unmappable records, rows the server refuses and redeliveries are
// mixed into batches large enough that the server refuses the direct COPY while rows are still
// being mapped and sent.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>

#include "chaos_support.hpp"
#include "credentials.hpp"
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

// What the sink is given; the defaults are the plain-TCP, password-from-environment set-up.
struct WriterSetup {
  std::string method = "copy";
  PostgresOptions server;
  std::string connection_extra;                        // appended to the connection string
  std::optional<std::filesystem::path> password_file;  // instead of password_env
};

struct Writer {
  explicit Writer(const WriterSetup& setup, bool initialize = true)
      : scratch("pg-writer-" + setup.method), server(scratch.path() / "pg", setup.server) {
    server.start();
    server.query(
        "CREATE TABLE payments (n bigint, amount numeric CHECK (amount >= 0), payload jsonb, "
        "danube_topic text, danube_partition integer, danube_offset bigint, "
        "danube_publish_time timestamptz, danube_routing_key text, danube_attributes jsonb, "
        "UNIQUE (danube_topic, danube_partition, danube_offset))");
    const std::string password = setup.password_file
                                     ? "password_file = \"" + setup.password_file->string() + "\"\n"
                                     : "password_env = \"PG_WRITER_PASSWORD\"\n";
    connect::ConnectorConfig config;
    config.connector_name = "pg-writer";
    config.custom_sections = connect::ConfigSection::parse(
        "[postgres]\nconnection = \"" + server.tcp_connection() + setup.connection_extra + "\"\n" +
            password + "insert_method = \"" + setup.method +
            "\"\n[[postgres.routes]]\nfrom = \"/default/writer\"\nto = \"payments\"\n"
            "[[postgres.routes.columns]]\ncolumn = \"n\"\ntype = \"bigint\"\n"
            "[[postgres.routes.columns]]\ncolumn = \"amount\"\ntype = \"numeric\"\n",
        "writer.toml");
    context.emplace(connect::ConnectorContext::standalone(config));
    if (initialize) sink.initialize(*context);
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

// The message initialize() fails with, or "no error".
std::string initialize_error(Writer& writer) {
  try {
    writer.sink.initialize(*writer.context);
  } catch (const connect::ConnectorError& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

BOOST_AUTO_TEST_CASE(exactly_the_bad_records_of_a_large_batch_fail_and_the_rest_commit) {
  for (const std::string method : {"copy", "insert"}) {
    BOOST_TEST_CONTEXT("insert_method = " << method) {
      WriterSetup setup;
      setup.method = method;
      Writer writer(setup);
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

BOOST_AUTO_TEST_CASE(tls_verify_full_with_the_password_from_a_file) {
  test::SelfSignedCertificate certificate;  // CN localhost, SAN 127.0.0.1: its own CA
  test::SelfSignedCertificate stranger;
  chaos::ScratchDirectory secrets("pg-writer-secrets");
  const auto password_file = secrets.path() / "password";
  std::ofstream(password_file) << kPassword << "\n";  // a trailing newline, as editors leave
  PostgresOptions tls;
  tls.tls_cert_file = certificate.cert_file();
  tls.tls_key_file = certificate.key_file();

  WriterSetup verified;
  verified.server = tls;
  verified.connection_extra =
      " sslmode=verify-full sslrootcert=" + certificate.cert_file().string();
  verified.password_file = password_file;
  Writer writer(verified);
  const auto records = numbered_records(0, 50);
  const auto result = writer.sink.process_batch(records);
  BOOST_TEST(failed(result, 0) == (std::set<std::size_t>{3, 10}));
  BOOST_TEST(writer.server.count("payments") == 48);
  // The sink's session is encrypted (the server turns unencrypted TCP away anyway).
  BOOST_TEST(writer.server.value("SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a "
                                 "USING (pid) WHERE s.ssl AND a.client_addr IS NOT NULL") == "1");

  // Refusals say why: no encryption, and a server certificate no configured CA signed.
  WriterSetup unencrypted_setup;
  unencrypted_setup.server = tls;
  unencrypted_setup.connection_extra = " sslmode=disable";
  Writer plain(unencrypted_setup, false);
  const auto unencrypted = initialize_error(plain);
  BOOST_TEST(unencrypted.find("cannot connect to PostgreSQL") != std::string::npos, unencrypted);
  BOOST_TEST(unencrypted.find("no encryption") != std::string::npos, unencrypted);
  WriterSetup distrusting_setup;
  distrusting_setup.server = tls;
  distrusting_setup.connection_extra =
      " sslmode=verify-full sslrootcert=" + stranger.cert_file().string();
  Writer distrusting(distrusting_setup, false);
  const auto unverified = initialize_error(distrusting);
  BOOST_TEST(unverified.find("certificate verify failed") != std::string::npos, unverified);
  BOOST_TEST(unverified.find(kPassword) == std::string::npos);
}
