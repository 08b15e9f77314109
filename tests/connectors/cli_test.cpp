// The command line every connector binary answers through the run helpers: --help, --version,
// --config, --check-config (exit 0 or 2, naming file, line and key, connecting to nothing) and
// --print-config (where each setting came from, secrets masked).
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "chaos_support.hpp"
#include "danube/runtime/run.hpp"

using namespace danube;
using namespace std::chrono_literals;

namespace {

struct Binary {
  std::string name;
  std::filesystem::path path;
  std::string valid_tables;  // the connector's own tables, valid
  std::string bad_table;     // a table with one bad key on its second line
  std::string bad_key;       // how the error names it
};

const std::vector<Binary> kBinaries = {
    {"simple_source", SIMPLE_SOURCE_PATH, "[simple_source]\ntopic = \"/default/cli\"\n",
     "[simple_source]\nbatch_size = 0\n", "batch_size"},
    {"simple_sink", SIMPLE_SINK_PATH, "[simple_sink]\ntopic = \"/default/cli\"\n",
     "[simple_sink]\nprint_evry = 1\n", "print_evry"},
    {"danube-source-mqtt", MQTT_SOURCE_PATH,
     "[mqtt]\nbroker_host = \"localhost\"\nclient_id = \"c\"\n[[mqtt.routes]]\nfrom = \"a/#\"\n"
     "to = \"/default/a\"\n",
     "[mqtt]\nbroker_port = 0\nbroker_host = \"h\"\nclient_id = \"c\"\n[[mqtt.routes]]\n"
     "from = \"a\"\nto = \"/default/a\"\n",
     "broker_port"},
    {"danube-sink-http", HTTP_SINK_PATH,
     "[http_sink]\n[[http_sink.routes]]\nfrom = \"/default/a\"\nto = \"http://127.0.0.1:1/in\"\n",
     "[http_sink]\nbody_formt = \"single\"\n[[http_sink.routes]]\nfrom = \"/default/a\"\n"
     "to = \"http://127.0.0.1:1/in\"\n",
     "body_formt"},
    {"danube-sink-postgres", POSTGRES_SINK_PATH,
     "[postgres]\nconnection = \"host=127.0.0.1 port=1 dbname=x user=y\"\n"
     "[[postgres.routes]]\nfrom = \"/default/a\"\nto = \"events\"\n",
     "[postgres]\nconection = \"host=127.0.0.1\"\n[[postgres.routes]]\nfrom = \"/default/a\"\n"
     "to = \"events\"\n",
     "conection"},
    {"danube-source-webhook", WEBHOOK_SOURCE_PATH,
     "[[routes]]\nfrom = \"/hooks/a\"\nto = \"/default/a\"\n",
     "[[routes]]\nfrom = \"no-slash\"\nto = \"/default/a\"\n", "from"},
};

const std::string kHeader =
    "danube_service_url = \"http://127.0.0.1:1\"\n"  // nothing listens there
    "connector_name = \"cli-test\"\n"
    "[processing]\nbatch_size = 77\n"
    "[auth]\ntoken = \"very-secret-token\"\n";

struct Outcome {
  chaos::ExitStatus status;
  std::string output;
};

Outcome run(const chaos::ScratchDirectory& dir, const Binary& binary,
            const std::vector<std::string>& arguments, std::vector<std::string> environment = {}) {
  static int runs = 0;
  const auto log = dir.path() / (binary.name + "." + std::to_string(++runs) + ".out");
  std::vector<std::string> argv = {binary.path.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  chaos::Process process(binary.name, argv, std::move(environment), log);
  Outcome outcome{process.wait(30s), {}};
  std::ifstream in(log);
  std::ostringstream text;
  text << in.rdbuf();
  outcome.output = text.str();
  return outcome;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_binary_answers_help_and_version_and_refuses_unknown_options) {
  chaos::ScratchDirectory dir("cli-help");
  for (const auto& binary : kBinaries) {
    BOOST_TEST_CONTEXT(binary.name) {
      const auto help = run(dir, binary, {"--help"});
      BOOST_TEST(help.status.clean(), help.status.describe());
      BOOST_TEST(contains(help.output, "--check-config"), help.output);
      const auto version = run(dir, binary, {"--version"});
      BOOST_TEST(version.status.clean());
      BOOST_TEST(contains(version.output, binary.name + " danube-connect "), version.output);
      const auto bogus = run(dir, binary, {"--frobnicate"});
      BOOST_TEST(bogus.status.code == runtime::kExitConfigError, bogus.status.describe());
    }
  }
}

BOOST_AUTO_TEST_CASE(check_config_validates_without_connecting_and_names_the_bad_key) {
  chaos::ScratchDirectory dir("cli-check");
  for (const auto& binary : kBinaries) {
    BOOST_TEST_CONTEXT(binary.name) {
      const auto good = dir.path() / (binary.name + "-good.toml");
      chaos::write_text_file(good, kHeader + binary.valid_tables);
      // The broker address is dead: a check that tried to connect would hang or fail.
      const auto ok = run(dir, binary, {"--config", good.string(), "--check-config"});
      BOOST_TEST(ok.status.clean(), ok.status.describe() << "\n" << ok.output);
      BOOST_TEST(contains(ok.output, "config ok: cli-test"), ok.output);
      BOOST_TEST(ok.status.waited_ms < 10'000);

      const auto bad = dir.path() / (binary.name + "-bad.toml");
      chaos::write_text_file(bad, kHeader + binary.bad_table);
      const auto refused = run(dir, binary, {"--config", bad.string(), "--check-config"});
      BOOST_TEST(refused.status.code == runtime::kExitConfigError, refused.status.describe());
      BOOST_TEST(contains(refused.output, bad.string() + ":"), refused.output);
      BOOST_TEST(contains(refused.output, binary.bad_key), refused.output);

      // CONNECTOR_CONFIG_PATH works as well as --config.
      const auto from_environment =
          run(dir, binary, {"--check-config"}, {"CONNECTOR_CONFIG_PATH=" + bad.string()});
      BOOST_TEST(from_environment.status.code == runtime::kExitConfigError);
    }
  }
}

BOOST_AUTO_TEST_CASE(print_config_says_where_each_setting_came_from_and_masks_secrets) {
  chaos::ScratchDirectory dir("cli-print");
  const auto& mqtt = kBinaries[2];
  const auto file = dir.path() / "mqtt.toml";
  chaos::write_text_file(file, kHeader + mqtt.valid_tables);
  const auto printed = run(dir, mqtt, {"--config", file.string(), "--print-config"},
                           {"DANUBE_CONNECT__PROCESSING__POLL_INTERVAL_MS=7"});
  BOOST_TEST_REQUIRE(printed.status.clean(), printed.output);
  const auto& text = printed.output;
  BOOST_TEST(contains(text, "connector_name = cli-test  # " + file.string() + ":2"), text);
  BOOST_TEST(contains(text, "processing.batch_size = 77  # " + file.string() + ":4"), text);
  BOOST_TEST(contains(text,
                      "processing.poll_interval_ms = 7  # "
                      "DANUBE_CONNECT__PROCESSING__POLL_INTERVAL_MS"),
             text);
  BOOST_TEST(contains(text, "retry.max_retries = 3  # default"), text);
  // danube-source-mqtt's own default for an SDK setting.
  BOOST_TEST(contains(text, "offsets.commit_interval_ms = 20  # default of this connector"), text);
  BOOST_TEST(contains(text, "auth.token = <redacted>"), text);
  BOOST_TEST(!contains(text, "very-secret-token"), text);
}
