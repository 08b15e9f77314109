// The run helpers' limit on glibc's malloc arenas, seen from outside a real connector process
// (examples/simple_sink): 2 arenas unless the environment sets glibc's own limit
// (MALLOC_ARENA_MAX, or glibc.malloc.arena_max in GLIBC_TUNABLES), which then stands. Each case
// checks the start log line and the arenas the process really has. glibc's malloc_info() answers
// inside the process only, but every arena besides the main one lives in heaps glibc maps itself,
// and those show in /proc/<pid>/maps: so a limit set too late (after threads took their arenas)
// or overriding the operator's fails here even when the log line looks right.
#include "malloc_arenas.hpp"

#include <sys/types.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "danube/runtime/run.hpp"
#include "runtime_test_support.hpp"
#include "simple_sink_process.hpp"

using namespace danube;
using namespace danube::runtime::test;
using namespace std::chrono_literals;

namespace {

// AddressSanitizer and ThreadSanitizer bring allocators of their own, whose mappings are not
// glibc's arenas (and which may refuse mallopt): under them only the log line is checked.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kGlibcMalloc = false;
#else
constexpr bool kGlibcMalloc = true;
#endif

// glibc's HEAP_MAX_SIZE on 64-bit targets: the size and the alignment of an arena's heap.
constexpr std::uintptr_t kHeapReservation = std::uintptr_t{64} << 20;

struct Mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string permissions;
  bool anonymous = false;
};

std::vector<Mapping> read_mappings(pid_t pid) {
  std::vector<Mapping> mappings;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(maps, line);) {
    std::istringstream fields(line);
    std::string range, offset, device, inode, path;
    Mapping mapping;
    fields >> range >> mapping.permissions >> offset >> device >> inode >> path;
    const auto dash = range.find('-');
    mapping.start = std::stoull(range.substr(0, dash), nullptr, 16);
    mapping.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    mapping.anonymous = path.empty();
    mappings.push_back(mapping);
  }
  return mappings;
}

// The heaps of the arenas other than the main one. glibc reserves each as an inaccessible
// mapping of kHeapReservation aligned to its size and makes its beginning read-write as the heap
// grows, so a heap is an aligned address inside an anonymous read-write mapping whose end is
// followed by an inaccessible anonymous mapping reaching the end of the reservation. Neighbours
// with the same protection may merge into either part, so mapping starts are not relied on. A
// heap grown to its full reservation would not be counted; an idle connector's are far from it.
std::size_t count_arena_heaps(pid_t pid) {
  const auto mappings = read_mappings(pid);
  std::size_t heaps = 0;
  for (std::size_t i = 0; i + 1 < mappings.size(); ++i) {
    const Mapping& used = mappings[i];
    const Mapping& reserved = mappings[i + 1];
    if (!used.anonymous || used.permissions != "rw-p") continue;
    if (!reserved.anonymous || reserved.permissions != "---p" || reserved.start != used.end) {
      continue;
    }
    const std::uintptr_t heap_start = (used.end - 1) / kHeapReservation * kHeapReservation;
    if (heap_start < used.start || used.end >= heap_start + kHeapReservation) continue;
    if (reserved.end >= heap_start + kHeapReservation) ++heaps;
  }
  return heaps;
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
}

struct ArenaCase {
  std::string variable;  // "NAME=value" exported to the connector, or empty for none
  std::string expected_log;
  std::size_t min_heaps;
  std::size_t max_heaps;
};

}  // namespace

BOOST_AUTO_TEST_CASE(run_helpers_limit_malloc_arenas_unless_the_environment_sets_the_limit) {
  testkit::EmbeddedBroker broker;
  broker.start();
  const std::string topic = "/default/arenas";
  broker.create_topic(topic, true);
  TempDirectory dir;
  const auto config = dir.path / "sink.toml";
  write_file(config, "danube_service_url = \"" + broker.service_url() +
                         "\"\nconnector_name = \"arena-sink\"\n[processing]\nmetrics_port = 0\n"
                         "[offsets]\nstate_dir = \"" +
                         (dir.path / "state").string() + "\"\n[simple_sink]\ntopic = \"" + topic +
                         "\"\nprint_every = 0\n");

  constexpr std::size_t ours = runtime::kRunHelperMallocArenas;
  // Heaps are arenas besides the main one: at most limit - 1. An idle simple_sink has about 20
  // threads, each taking a new arena on its first allocation while the limit allows, so it
  // reaches any limit up to 8; a case whose limit is above ours must show more heaps than ours
  // allows (ours - 1), or ours overrode the operator's.
  const std::vector<ArenaCase> cases = {
      {"", "event=malloc_arenas max=2 source=run_helpers", 1, ours - 1},
      {"MALLOC_ARENA_MAX=8", "event=malloc_arenas max=8 source=MALLOC_ARENA_MAX", ours, 7},
      {"GLIBC_TUNABLES=glibc.malloc.arena_max=3", "event=malloc_arenas max=3 source=GLIBC_TUNABLES",
       2, 2},
      {"GLIBC_TUNABLES=glibc.malloc.tcache_count=7:glibc.malloc.arena_max=3",
       "event=malloc_arenas max=3 source=GLIBC_TUNABLES", 2, 2},
  };
  for (const auto& arena_case : cases) {
    BOOST_TEST_CONTEXT("environment \"" << arena_case.variable << "\"") {
      // The shell clears what the test's own environment may hold and exports the case's
      // variable.
      std::string setup = "unset MALLOC_ARENA_MAX GLIBC_TUNABLES; ";
      if (!arena_case.variable.empty()) setup += "export '" + arena_case.variable + "'; ";
      // Read while the connector runs and its threads have taken their arenas.
      std::size_t heaps = 0;
      const SinkProcessRun run = run_sink_process(
          SIMPLE_SINK_PATH, config, setup, [&](pid_t pid) { heaps = count_arena_heaps(pid); });
      BOOST_TEST_MESSAGE("arena heaps " << heaps << "; log:\n" << run.log);
      BOOST_REQUIRE(run.running);
      // A sanitizer's allocator may refuse mallopt(), which the run helpers then report.
      const bool refused =
          !kGlibcMalloc && arena_case.variable.empty() &&
          run.log.find("event=malloc_arenas max=- source=unchanged") != std::string::npos;
      BOOST_TEST((refused || run.log.find(arena_case.expected_log) != std::string::npos));
      if (kGlibcMalloc) {
        BOOST_TEST(heaps >= arena_case.min_heaps);
        BOOST_TEST(heaps <= arena_case.max_heaps);
      }
      BOOST_TEST(run.status == runtime::kExitClean);
    }
  }
}
