// How many scheduler workers the run helpers start, seen from outside a real connector process
// (examples/simple_sink): one by default, two with [sink_buffer] (its consumers fsync on a
// worker). Each case checks the start log line and the worker threads the process really has,
// counted by name in /proc/<pid>/task, so a log line that disagrees with the actor system fails.
#include <sys/types.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "danube/runtime/run.hpp"
#include "runtime_test_support.hpp"
#include "simple_sink_process.hpp"
#include "thread_names.hpp"

using namespace danube;
using namespace danube::runtime::test;
using danube::test::threads_named;

namespace {

// CAF 0.17 names its scheduler's worker threads so.
constexpr const char* kWorkerThreadName = "caf.multiplexer";

struct WorkersCase {
  std::string extra_toml;  // appended to the sink's configuration
  std::size_t workers;
};

}  // namespace

BOOST_AUTO_TEST_CASE(run_helpers_start_one_scheduler_worker_or_two_with_a_sink_buffer) {
  testkit::EmbeddedBroker broker;
  broker.start();
  const std::string topic = "/default/workers";
  broker.create_topic(topic, true);
  const std::vector<WorkersCase> cases = {
      {"", 1},
      {"[sink_buffer]\nenabled = true\n", 2},
  };
  for (const auto& workers_case : cases) {
    BOOST_TEST_CONTEXT("expecting " << workers_case.workers << " worker(s)") {
      TempDirectory dir;
      const auto config = dir.path / "sink.toml";
      std::ofstream(config) << "danube_service_url = \"" << broker.service_url()
                            << "\"\nconnector_name = \"workers-sink\"\n"
                            << workers_case.extra_toml << "[processing]\nmetrics_port = 0\n"
                            << "[offsets]\nstate_dir = \"" << (dir.path / "state").string()
                            << "\"\n[simple_sink]\ntopic = \"" << topic << "\"\nprint_every = 0\n";
      std::size_t workers = 0;
      const SinkProcessRun run = run_sink_process(SIMPLE_SINK_PATH, config, "", [&](pid_t pid) {
        workers = threads_named(pid, kWorkerThreadName);
      });
      BOOST_TEST_MESSAGE("worker threads " << workers << "; log:\n" << run.log);
      BOOST_REQUIRE(run.running);
      BOOST_TEST(run.log.find("event=actor_system workers=" + std::to_string(workers_case.workers) +
                              " policy=sharing") != std::string::npos);
      BOOST_TEST(workers == workers_case.workers);
      BOOST_TEST(run.status == runtime::kExitClean);
    }
  }
}
