// The bookkeeping behind gap detection (PartitionContinuity) and its file (SinkOffsetFile),
// without a broker: every decision a sink takes about an arriving offset, exactly.
#include <fmt/format.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <thread>

#include "common/runtime_context.hpp"
#include "danube/client/partitioning.hpp"
#include "sink/gap_report.hpp"
#include "sink/partition_continuity.hpp"
#include "sink/sink_offset_file.hpp"

using namespace danube;
using namespace danube::runtime;
using Arrival = PartitionContinuity::Arrival;

namespace danube::runtime {
std::ostream& operator<<(std::ostream& out, Arrival arrival) {
  return out << to_string(arrival);
}
}  // namespace danube::runtime

namespace {

MessageIdentity message(std::uint64_t n, std::uint64_t publish_time = 1000) {
  return identify("producer", n, publish_time + n, "payload " + std::to_string(n));
}

// Receives and processes [first, end) in order, as a healthy sink does.
void run(PartitionContinuity& continuity, std::uint64_t first, std::uint64_t end) {
  for (auto offset = first; offset < end; ++offset) {
    const auto verdict = continuity.received(offset, message(offset));
    BOOST_TEST_REQUIRE(!verdict.gap.has_value());
    continuity.processed(offset, message(offset), verdict.epoch);
  }
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device random;
    path = std::filesystem::temp_directory_path() /
           ("continuity-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(identity_separates_fields_and_is_stable) {
  BOOST_TEST(identify("ab", 1, 2, "c").digest != identify("a", 1, 2, "bc").digest);
  BOOST_TEST(identify("p", 1, 2, "x").digest == identify("p", 1, 2, "x").digest);
  BOOST_TEST(identify("p", 1, 2, "x").digest != identify("p", 2, 2, "x").digest);
  BOOST_TEST(identify("p", 1, 2, "x").publish_time == 2u);
}

// Digests are kept in the offsets file and name the redeliveries a restarted sink recognises:
// they must come out the same in every build. Expected values: FNV-1a 64 over the little-endian
// length and bytes of the producer name, the request id, the publish time, then the payload's
// length and bytes, computed outside this code.
BOOST_AUTO_TEST_CASE(identity_digests_never_change_between_builds) {
  BOOST_TEST(identify("", 0, 0, "").digest == 0x0c8210784d8af5a5ull);
  BOOST_TEST(identify("producer", 7, 999999, "new message").digest == 0xcb794383dcd847c6ull);
  BOOST_TEST(identify("p", 1, 2, "x").digest == 0x3cc050b9c3203632ull);
  std::string long_payload;
  for (int round = 0; round < 2; ++round) {
    for (int byte = 0; byte < 256; ++byte)
      long_payload.push_back(static_cast<char>(byte));
  }
  long_payload += "tail-not-a-multiple-of-8";
  BOOST_TEST(identify("demo-source--default-demo-3", 21279, 1764806400123, long_payload).digest ==
             0x049e38602957c562ull);
}

BOOST_AUTO_TEST_CASE(the_first_offset_is_a_baseline_and_order_reports_nothing) {
  PartitionContinuity continuity;
  BOOST_TEST(continuity.received(500, message(500)).arrival == Arrival::first);
  BOOST_TEST(continuity.received(501, message(501)).arrival == Arrival::in_order);
  BOOST_TEST(*continuity.state().next_expected == 502u);
}

BOOST_AUTO_TEST_CASE(a_jump_reports_exactly_the_skipped_range) {
  PartitionContinuity continuity;
  run(continuity, 0, 10);
  const auto verdict = continuity.received(1744, message(1744));
  BOOST_TEST(verdict.arrival == Arrival::ahead);
  BOOST_TEST_REQUIRE(verdict.gap.has_value());
  BOOST_TEST(verdict.gap->first == 10u);
  BOOST_TEST(verdict.gap->last == 1743u);
  BOOST_TEST(verdict.gap->count() == 1734u);
  BOOST_TEST(continuity.received(1745, message(1745)).arrival == Arrival::in_order);
  // Suspected, not reported: the first sweep marks, the second confirms what is still missing.
  BOOST_TEST(continuity.confirm_gaps().empty());
  BOOST_TEST(continuity.sweep().empty());
  BOOST_TEST(continuity.state().unconfirmed_reports.empty());
  const auto lost = continuity.sweep();
  BOOST_TEST((lost == std::vector<OffsetGap>{{10, 1743}}));
  BOOST_TEST((continuity.state().unconfirmed_reports == std::vector<OffsetGap>{{10, 1743}}));
  BOOST_TEST(!continuity.has_suspected());
  // The lost offsets count as settled: once the rest is processed the prefix passes them.
  continuity.processed(1744, message(1744), verdict.epoch);
  continuity.processed(1745, message(1745), verdict.epoch);
  BOOST_TEST(continuity.state().settled_below == 1746u);
  BOOST_TEST(continuity.state().settled_ranges.empty());
}

BOOST_AUTO_TEST_CASE(offsets_delivered_out_of_order_are_late_never_lost) {
  // Danube 0.15.1 with several sends in flight delivers e.g. 318 before 317.
  PartitionContinuity continuity;
  run(continuity, 0, 5);
  const auto verdict = continuity.received(8, message(8));
  BOOST_TEST(verdict.arrival == Arrival::ahead);
  BOOST_TEST((*verdict.gap == OffsetGap{5, 7}));
  BOOST_TEST(continuity.received(6, message(6)).arrival == Arrival::late);
  BOOST_TEST(continuity.sweep().empty());  // marks 5 and 7
  BOOST_TEST(continuity.received(5, message(5)).arrival == Arrival::late);
  BOOST_TEST(continuity.received(7, message(7)).arrival == Arrival::late);
  BOOST_TEST(continuity.sweep().empty());
  BOOST_TEST(continuity.sweep(true).empty());
  BOOST_TEST(!continuity.has_suspected());
  BOOST_TEST(continuity.state().unconfirmed_reports.empty());
  // A late offset is processed like any other, and a second copy of it is a redelivery.
  continuity.processed(6, message(6), verdict.epoch);
  BOOST_TEST(continuity.received(6, message(6)).arrival == Arrival::already_processed);
}

BOOST_AUTO_TEST_CASE(a_jump_the_stream_is_far_past_is_lost_without_waiting) {
  PartitionContinuity continuity;
  run(continuity, 0, 10);
  BOOST_TEST(continuity.received(20, message(20)).arrival == Arrival::ahead);
  // Confirmed once the stream is kReorderHorizon past the last offset jumped over (19).
  std::uint64_t offset = 21;
  for (; offset < 19 + PartitionContinuity::kReorderHorizon; ++offset) {
    continuity.received(offset, message(offset));
    BOOST_TEST_REQUIRE(continuity.confirm_gaps().empty());
  }
  continuity.received(offset, message(offset));
  BOOST_TEST((continuity.confirm_gaps() == std::vector<OffsetGap>{{10, 19}}));
  BOOST_TEST(!continuity.has_suspected());
}

BOOST_AUTO_TEST_CASE(offsets_suspected_when_the_broker_restarts_its_numbering_are_lost) {
  PartitionContinuity continuity;
  run(continuity, 0, 10);
  continuity.received(15, message(15));
  const auto verdict = continuity.received(0, identify("producer", 7, 999999, "new message"));
  BOOST_TEST(verdict.arrival == Arrival::new_sequence);
  BOOST_TEST((verdict.lost == std::vector<OffsetGap>{{10, 14}}));
  BOOST_TEST((continuity.state().unconfirmed_reports == std::vector<OffsetGap>{{10, 14}}));
  BOOST_TEST(!continuity.has_suspected());
}

BOOST_AUTO_TEST_CASE(redeliveries_are_processed_unless_already_processed) {
  PartitionContinuity continuity;
  for (std::uint64_t offset = 0; offset < 5; ++offset)
    continuity.received(offset, message(offset));
  continuity.processed(0, message(0), continuity.epoch());
  continuity.processed(1, message(1), continuity.epoch());
  // 3 was received, not processed: the broker sends it again and it must be processed.
  BOOST_TEST(continuity.received(3, message(3)).arrival == Arrival::redelivered);
  // 1 was processed and the identity matches: ack it, do not process it again.
  BOOST_TEST(continuity.received(1, message(1)).arrival == Arrival::already_processed);
  BOOST_TEST(*continuity.state().next_expected == 5u);
}

BOOST_AUTO_TEST_CASE(a_known_offset_with_another_identity_starts_a_new_sequence) {
  PartitionContinuity continuity;
  run(continuity, 0, 100);
  const auto before = continuity.epoch();
  // A broker restarted in cluster mode numbers new messages from 0 again.
  const auto fresh = identify("producer", 7, 999999, "new message");
  const auto verdict = continuity.received(0, fresh);
  BOOST_TEST(verdict.arrival == Arrival::new_sequence);
  BOOST_TEST(verdict.epoch == before + 1);
  BOOST_TEST(*continuity.state().next_expected == 1u);
  // Completions of records from the old sequence no longer settle anything.
  continuity.processed(50, message(50), before);
  BOOST_TEST(continuity.state().settled_ranges.empty());
  BOOST_TEST(continuity.received(1, identify("producer", 8, 999999, "next")).arrival ==
             Arrival::in_order);
}

BOOST_AUTO_TEST_CASE(offsets_older_than_the_recorded_identities_are_judged_by_publish_time) {
  PartitionContinuity continuity;
  const auto newest = PartitionContinuity::kRecentIdentities + 100;
  run(continuity, 0, newest);
  BOOST_TEST(continuity.state().recent.size() == PartitionContinuity::kRecentIdentities);
  BOOST_TEST(!continuity.state().recent.contains(3));
  // Published before everything processed: possibly a redelivery, processed again.
  BOOST_TEST(continuity.received(3, message(3)).arrival == Arrival::uncertain_duplicate);
  // Published after everything processed: cannot have been processed, so offsets restarted.
  BOOST_TEST(continuity.received(3, message(3, 1000000)).arrival == Arrival::new_sequence);
}

BOOST_AUTO_TEST_CASE(after_a_restart_unacked_offsets_are_redeliveries_in_any_order) {
  PartitionContinuity continuity;
  for (std::uint64_t offset = 0; offset < 10; ++offset)
    continuity.received(offset, message(offset));
  for (std::uint64_t offset : {0, 1, 2, 3, 4, 7})
    continuity.processed(offset, message(offset), continuity.epoch());
  const auto saved = continuity.state();
  BOOST_TEST(*saved.next_expected == 10u);  // 5, 6, 8 and 9 are owed by the broker
  BOOST_TEST(saved.settled_below == 5u);
  BOOST_TEST((saved.settled_ranges == std::map<std::uint64_t, std::uint64_t>{{7, 8}}));

  // After a restart the broker sends the unacked 5, 6, 8, 9 again, maybe after newer offsets.
  PartitionContinuity restarted(saved);
  BOOST_TEST(restarted.received(10, message(10)).arrival == Arrival::in_order);
  BOOST_TEST(restarted.received(8, message(8)).arrival == Arrival::redelivered);
  BOOST_TEST(restarted.received(5, message(5)).arrival == Arrival::redelivered);
  BOOST_TEST(restarted.received(7, message(7)).arrival == Arrival::already_processed);
  const auto verdict = restarted.received(300, message(300));
  BOOST_TEST(verdict.arrival == Arrival::ahead);
  BOOST_TEST(verdict.gap->first == 11u);
  BOOST_TEST(verdict.gap->count() == 289u);
}

BOOST_AUTO_TEST_CASE(an_identity_without_publish_time_never_drops_a_message) {
  PartitionContinuity continuity;
  const auto bare = identify("", 0, 0, "ping");
  const auto verdict = continuity.received(0, bare);
  continuity.processed(0, bare, verdict.epoch);
  continuity.received(1, bare);
  // The same payload at a known offset: maybe a new "ping", so it is processed again.
  BOOST_TEST(continuity.received(0, bare).arrival == Arrival::uncertain_duplicate);
}

BOOST_AUTO_TEST_CASE(settled_ranges_merge_out_of_order_completions) {
  PartitionContinuity continuity;
  for (std::uint64_t offset = 0; offset < 8; ++offset)
    continuity.received(offset, message(offset));
  for (std::uint64_t offset : {5, 3, 6, 1, 2})
    continuity.processed(offset, message(offset), continuity.epoch());
  BOOST_TEST(continuity.state().settled_below == 0u);
  BOOST_TEST((continuity.state().settled_ranges ==
              std::map<std::uint64_t, std::uint64_t>{{1, 4}, {5, 7}}));
  continuity.processed(0, message(0), continuity.epoch());
  continuity.processed(4, message(4), continuity.epoch());
  BOOST_TEST(continuity.state().settled_below == 7u);
  BOOST_TEST(continuity.state().settled_ranges.empty());
}

BOOST_AUTO_TEST_CASE(the_offset_file_round_trips_and_sets_a_bad_file_aside) {
  TempDir dir;
  SinkOffsetFile file(dir.path, "my sink", "/default/orders-part-1", "sub");
  const auto name = file.file().filename().string();
  BOOST_TEST(name.starts_with("my_sink.sink._default_orders-part-1.sub."));
  BOOST_TEST(name.ends_with(".json"));
  // Names that differ only where safe_file_name replaces characters get different files.
  BOOST_TEST(SinkOffsetFile(dir.path, "c", "/a_b/c", "s").file() !=
             SinkOffsetFile(dir.path, "c", "/a/b_c", "s").file());
  std::string problem;
  BOOST_TEST(!file.load(problem).has_value());
  BOOST_TEST(problem.empty());

  PartitionContinuity continuity;
  for (std::uint64_t offset = 0; offset < 10; ++offset)
    continuity.received(offset, message(offset));
  for (std::uint64_t offset : {0, 1, 4})
    continuity.processed(offset, message(offset), continuity.epoch());
  continuity.received(14, message(14));  // 10..13 suspected
  continuity.received(12, message(12));
  BOOST_TEST(
      (continuity.state().suspected == std::map<std::uint64_t, std::uint64_t>{{10, 12}, {13, 14}}));
  file.save(continuity.state());
  const auto loaded = file.load(problem);
  BOOST_TEST(problem.empty());
  BOOST_TEST_REQUIRE(loaded.has_value());
  BOOST_TEST((*loaded == continuity.state()));

  // A state file of another subscription is not taken for this one.
  SinkOffsetFile other(dir.path, "my sink", "/default/orders-part-1", "other");
  std::filesystem::copy_file(file.file(), other.file());
  BOOST_TEST(!other.load(problem).has_value());
  BOOST_TEST(problem.find("another topic or subscription") != std::string::npos);
  BOOST_TEST(std::filesystem::exists(other.file().string() + ".corrupt"));

  std::ofstream(file.file(), std::ios::trunc) << "{\"format\":1,\"settled_below\":";
  problem.clear();
  BOOST_TEST(!file.load(problem).has_value());
  BOOST_TEST(!problem.empty());
  BOOST_TEST(!std::filesystem::exists(file.file()));
}

BOOST_AUTO_TEST_CASE(a_gap_stays_unconfirmed_in_the_saved_state_until_its_report_is_written) {
  TempDir dir;
  SinkOffsetFile file(dir.path, "sink", "/default/t-part-0", "sub");
  PartitionContinuity continuity;
  run(continuity, 0, 5);
  const auto verdict = continuity.received(9, message(9));
  BOOST_TEST(verdict.arrival == Arrival::ahead);
  BOOST_TEST(continuity.state().unconfirmed_reports.empty());
  BOOST_TEST((continuity.sweep(true) == std::vector<OffsetGap>{{5, 8}}));
  BOOST_TEST((continuity.state().unconfirmed_reports == std::vector<OffsetGap>{{5, 8}}));

  file.save(continuity.state());  // what a sink killed before its report finds on restart
  std::string problem;
  auto loaded = file.load(problem);
  BOOST_TEST_REQUIRE(loaded.has_value());
  BOOST_TEST((loaded->unconfirmed_reports == std::vector<OffsetGap>{{5, 8}}));

  continuity.reports_confirmed();
  BOOST_TEST(continuity.state().unconfirmed_reports.empty());
  file.save(continuity.state());
  loaded = file.load(problem);
  BOOST_TEST_REQUIRE(loaded.has_value());
  BOOST_TEST(loaded->unconfirmed_reports.empty());

  // Files written before reports were confirmed have no such list: nothing is unconfirmed.
  std::ofstream(file.file(), std::ios::trunc)
      << R"({"format":1,"topic":"/default/t-part-0","subscription":"sub","next_expected":10,)"
      << R"("settled_below":0,"settled_ranges":[],"recent":[],"newest_publish_time":7})";
  loaded = file.load(problem);
  BOOST_TEST_REQUIRE(loaded.has_value(), problem);
  BOOST_TEST(loaded->unconfirmed_reports.empty());
}

namespace {

std::uintmax_t size_of(const std::filesystem::path& file) {
  std::error_code ignored;
  const auto size = std::filesystem::file_size(file, ignored);
  return ignored ? 0 : size;
}

std::string contents(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Saves as the consumer actor does: the state and what processed() recorded since last time.
void save(SinkOffsetFile& file, PartitionContinuity& continuity) {
  file.save(continuity.state(), continuity.recorded());
  continuity.clear_recorded();
}

std::optional<PartitionContinuity::State> load(const SinkOffsetFile& file) {
  std::string problem;
  auto loaded = file.load(problem);
  BOOST_TEST(problem.empty(), problem);
  return loaded;
}

}  // namespace

// Small saves append to the journal; what is loaded is always the state last saved, whichever
// way it was written.
BOOST_AUTO_TEST_CASE(small_saves_append_journal_lines_that_load_back_to_the_same_state) {
  TempDir dir;
  SinkOffsetFile file(dir.path, "sink", "/default/t-part-0", "sub");
  PartitionContinuity continuity;
  run(continuity, 0, 3);
  save(file, continuity);  // a run's first save writes the snapshot
  const auto snapshot = contents(file.file());
  BOOST_TEST(size_of(file.journal_file()) == 0u);

  std::uint64_t offset = 3;
  for (int round = 0; round < 700; ++round) {
    const auto verdict = continuity.received(offset, message(offset));
    continuity.processed(offset, message(offset), verdict.epoch);
    ++offset;
    if (round % 50 == 7) {
      continuity.received(offset + 2, message(offset + 2));  // offset and offset+1 suspected
      continuity.received(offset, message(offset));          // late
      offset += 3;
    }
    if (round % 100 == 42) {
      continuity.sweep(true);  // offset+1 lost, its report unconfirmed until the next round
    } else {
      continuity.reports_confirmed();
    }
    save(file, continuity);
    const auto loaded = load(file);
    BOOST_TEST_REQUIRE(loaded.has_value());
    BOOST_TEST_REQUIRE((*loaded == continuity.state()), "round " << round);
  }
  // 700 records, far more than the 512 identities a snapshot holds, and it was never rewritten.
  BOOST_TEST(contents(file.file()) == snapshot);
  BOOST_TEST(size_of(file.journal_file()) > 700 * 20u);
  BOOST_TEST(continuity.state().recent.size() == PartitionContinuity::kRecentIdentities);
}

BOOST_AUTO_TEST_CASE(large_saves_and_new_sequences_write_a_snapshot_and_empty_the_journal) {
  TempDir dir;
  SinkOffsetFile file(dir.path, "sink", "/default/t-part-0", "sub");
  PartitionContinuity continuity;
  run(continuity, 0, 10);
  save(file, continuity);
  run(continuity, 10, 12);
  save(file, continuity);
  BOOST_TEST(size_of(file.journal_file()) > 0u);

  run(continuity, 12, 200);  // more identities than a line carries
  save(file, continuity);
  BOOST_TEST(size_of(file.journal_file()) == 0u);
  BOOST_TEST((*load(file) == continuity.state()));

  run(continuity, 200, 201);
  save(file, continuity);
  BOOST_TEST(size_of(file.journal_file()) > 0u);
  // A known offset with another identity: the broker numbered from 0 again.
  const auto verdict = continuity.received(5, message(5, 999999));
  BOOST_TEST(verdict.arrival == Arrival::new_sequence);
  continuity.processed(5, message(5, 999999), verdict.epoch);
  save(file, continuity);
  BOOST_TEST(size_of(file.journal_file()) == 0u);
  BOOST_TEST((*load(file) == continuity.state()));
}

// A sink stopped between writing a snapshot and emptying the journal leaves lines of the older
// snapshot: they are not applied to the newer one. A line torn by a stop in the middle of a write
// ends the replay; the lines before it count.
BOOST_AUTO_TEST_CASE(stale_and_torn_journal_lines_are_not_applied) {
  TempDir dir;
  SinkOffsetFile file(dir.path, "sink", "/default/t-part-0", "sub");
  PartitionContinuity continuity;
  run(continuity, 0, 5);
  save(file, continuity);
  run(continuity, 5, 8);
  save(file, continuity);
  const auto older_lines = contents(file.journal_file());
  BOOST_TEST(!older_lines.empty());

  run(continuity, 8, 100);
  save(file, continuity);  // a snapshot
  const auto newer = continuity.state();
  std::ofstream(file.journal_file(), std::ios::binary | std::ios::trunc) << older_lines;
  BOOST_TEST((*load(file) == newer));

  // Another run starts from the newer snapshot (its journal emptied by that run's snapshot).
  SinkOffsetFile restarted(dir.path, "sink", "/default/t-part-0", "sub");
  PartitionContinuity resumed(*load(restarted));
  save(restarted, resumed);
  run(resumed, 100, 102);
  save(restarted, resumed);
  const auto after_first_line = resumed.state();
  run(resumed, 102, 104);
  save(restarted, resumed);
  BOOST_TEST((*load(restarted) == resumed.state()));
  const auto journal = contents(restarted.journal_file());
  const auto first_line_end = journal.find('\n') + 1;
  for (const auto cut : {journal.size() - 1, journal.size() - 20, first_line_end + 5}) {
    std::ofstream(restarted.journal_file(), std::ios::binary | std::ios::trunc)
        << journal.substr(0, cut);
    BOOST_TEST((*load(restarted) == after_first_line), "cut at " << cut);
  }
  auto damaged = journal;
  damaged[first_line_end + 20] ^= 1;  // a flipped bit in the second line
  std::ofstream(restarted.journal_file(), std::ios::binary | std::ios::trunc) << damaged;
  BOOST_TEST((*load(restarted) == after_first_line));

  restarted.remove();
  BOOST_TEST(!std::filesystem::exists(restarted.file()));
  BOOST_TEST(!std::filesystem::exists(restarted.journal_file()));
}

// A journal that cannot be read, or a line that checks out but cannot be applied, costs the
// lines from there on, never the snapshot: the state loaded is an older one, not none.
BOOST_AUTO_TEST_CASE(a_bad_journal_never_costs_the_snapshot) {
  TempDir dir;
  SinkOffsetFile file(dir.path, "sink", "/default/t-part-0", "sub");
  PartitionContinuity continuity;
  run(continuity, 0, 20);
  save(file, continuity);
  const auto snapshot = continuity.state();
  run(continuity, 20, 22);
  save(file, continuity);
  const auto after_line = continuity.state();
  const auto journal = contents(file.journal_file());
  const auto generation = journal.substr(0, 16);

  std::filesystem::remove(file.journal_file());
  std::filesystem::create_directory(file.journal_file());  // reading it fails
  BOOST_TEST((*load(file) == snapshot));
  BOOST_TEST(std::filesystem::exists(file.file()));
  std::filesystem::remove(file.journal_file());

  // Checksummed, but with a field too many: the line is not applied, nor any part of it.
  const std::string body = generation + " 23 23 1022 0 0 0 1 22 00000000000000aa 7";
  std::ofstream(file.journal_file(), std::ios::binary | std::ios::trunc)
      << journal << body << ' ' << fmt::format("{:016x}", client::fnv1a_64(body)) << '\n';
  BOOST_TEST((*load(file) == after_line));

  std::ofstream(file.journal_file(), std::ios::binary | std::ios::trunc)
      << std::string(17 * 1024 * 1024, '\n');
  BOOST_TEST((*load(file) == snapshot));
  BOOST_TEST(std::filesystem::exists(file.file()));
}

// The same subscription's files written by a second instance: the first notices that the journal
// is no longer what it appended and writes a snapshot rather than lines nobody would apply.
BOOST_AUTO_TEST_CASE(an_instance_that_finds_the_journal_changed_writes_a_snapshot) {
  TempDir dir;
  SinkOffsetFile first(dir.path, "sink", "/default/t-part-0", "sub");
  SinkOffsetFile second(dir.path, "sink", "/default/t-part-0", "sub");
  PartitionContinuity continuity;
  run(continuity, 0, 5);
  save(first, continuity);
  run(continuity, 5, 6);
  save(first, continuity);
  PartitionContinuity other;
  run(other, 100, 101);
  save(second, other);  // a snapshot of its own, the journal emptied
  run(continuity, 6, 7);
  save(first, continuity);
  BOOST_TEST((*load(second) == continuity.state()));
  BOOST_TEST(size_of(first.journal_file()) == 0u);
}

BOOST_AUTO_TEST_CASE(the_gap_file_tells_which_reports_an_earlier_run_wrote) {
  TempDir dir;
  connect::ConnectorConfig config;
  config.connector_name = "sink";
  config.offsets.state_dir = dir.path.string();
  config.danube_service_url = "http://127.0.0.1:1";  // never contacted
  client::ClientOptions options;
  options.service_url = config.danube_service_url;
  const RuntimeContext context{config, client::DanubeClient::create(options).value(),
                               std::make_shared<services::ConnectorMetrics>(config.connector_name),
                               std::make_shared<services::HealthState>(config.connector_name),
                               nullptr};
  const GapReport written{"/default/t", "/default/t-part-0", "sub", OffsetGap{5, 8}, 9};
  BOOST_TEST(!gap_file_holds(config.gap_file(), written));  // no file yet
  report_gap(context, written);
  BOOST_TEST(context.counters->lost.load() == 4u);
  {
    std::ofstream garbage(config.gap_file(), std::ios::app);
    garbage << "not json\n[[[[\n{\"partition\":7}\n";
  }
  BOOST_TEST(gap_file_holds(config.gap_file(), written));
  auto other = written;
  other.subscription = "other";
  BOOST_TEST(!gap_file_holds(config.gap_file(), other));
  other = written;
  other.partition_topic = "/default/t-part-1";
  BOOST_TEST(!gap_file_holds(config.gap_file(), other));
  other = written;
  other.gap = OffsetGap{5, 9};
  BOOST_TEST(!gap_file_holds(config.gap_file(), other));
}

namespace {

// Line `n` of a test writer: exactly `width` bytes, '\n' included.
std::string fixed_line(const std::string& writer, int n, std::size_t width) {
  std::string line = R"({"writer":")" + writer + R"(","n":)" + std::to_string(n) + R"(,"pad":")";
  line += std::string(width - line.size() - 3, 'x');
  return line + "\"}\n";
}

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line + "\n");
  return lines;
}

}  // namespace

// A line that brings the file to its limit is written first, then the file is renamed to .1;
// older copies move up and the one beyond `keep` is gone.
BOOST_AUTO_TEST_CASE(the_gap_file_rotates_at_its_limit_and_keeps_the_newest_copies) {
  TempDir dir;
  const auto file = dir.path / "sink.gaps.jsonl";
  constexpr std::size_t kWidth = 100;
  const GapFileLimits limits{250, 2};  // three lines reach the limit
  for (int n = 1; n <= 20; ++n)
    append_to_gap_file(file, fixed_line("w", n, kWidth), limits);
  // Rotations after lines 3, 6, ..., 18: the file holds 19 and 20, .1 holds 16-18, .2 13-15.
  auto expected = [](int first, int last) {
    std::vector<std::string> lines;
    for (int n = first; n <= last; ++n)
      lines.push_back(fixed_line("w", n, kWidth));
    return lines;
  };
  const auto copy = [&](int number) {
    auto path = file;
    path += "." + std::to_string(number);
    return path;
  };
  BOOST_TEST(lines_of(file) == expected(19, 20), boost::test_tools::per_element());
  BOOST_TEST(lines_of(copy(1)) == expected(16, 18), boost::test_tools::per_element());
  BOOST_TEST(lines_of(copy(2)) == expected(13, 15), boost::test_tools::per_element());
  BOOST_TEST(!std::filesystem::exists(copy(3)));
  BOOST_TEST((gap_file_set(file) == std::vector{file, copy(1), copy(2)}));

  // A smaller keep later: the next rotation removes the copies beyond it.
  append_to_gap_file(file, fixed_line("w", 21, kWidth), GapFileLimits{250, 1});
  BOOST_TEST(lines_of(copy(1)) == expected(19, 21), boost::test_tools::per_element());
  BOOST_TEST((gap_file_set(file) == std::vector{copy(1)}));
}

// Writers on several threads (the consumers of several partitions) append and rotate the same
// file: every line lands exactly once, whole, and every rotated copy was rotated at the limit,
// not twice over by writers racing each other.
BOOST_AUTO_TEST_CASE(no_line_is_lost_or_split_while_writers_rotate_concurrently) {
  TempDir dir;
  const auto file = dir.path / "sink.gaps.jsonl";
  constexpr std::size_t kWidth = 120;
  constexpr int kWriters = 4;
  constexpr int kLines = 250;
  const GapFileLimits limits{20 * kWidth, 1000};  // room for every copy this test makes
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; n < kLines; ++n)
        append_to_gap_file(file, fixed_line(std::to_string(w), n, kWidth), limits);
    });
  }
  for (auto& writer : writers)
    writer.join();

  std::set<std::string> seen;
  std::size_t total = 0;
  const auto set = gap_file_set(file);
  BOOST_TEST(set.size() == std::size_t(kWriters * kLines / 20));  // the last line rotated too
  for (const auto& part : set) {
    const auto lines = lines_of(part);
    total += lines.size();
    seen.insert(lines.begin(), lines.end());
    if (part != file) {
      BOOST_TEST_CONTEXT(part) {
        BOOST_TEST(std::filesystem::file_size(part) == limits.max_bytes);
      }
    }
  }
  BOOST_TEST(total == std::size_t(kWriters * kLines));
  for (int w = 0; w < kWriters; ++w) {
    for (int n = 0; n < kLines; ++n)
      BOOST_TEST(seen.count(fixed_line(std::to_string(w), n, kWidth)) == 1u);
  }
}

// A report written by an earlier run is found after rotations moved it to a copy (so a restart
// does not report it twice), until so many rotations followed that its copy was removed.
BOOST_AUTO_TEST_CASE(a_report_in_a_rotated_copy_is_still_found) {
  TempDir dir;
  const auto file = dir.path / "sink.gaps.jsonl";
  const GapReport earlier{"/default/t", "/default/t-part-0", "sub", OffsetGap{5, 8}, 9};
  constexpr std::size_t kWidth = 256;
  const GapFileLimits limits{4 * kWidth, 2};  // four lines a file
  nlohmann::json report{{"partition", earlier.partition_topic},
                        {"subscription", earlier.subscription},
                        {"first_offset", earlier.gap.first},
                        {"last_offset", earlier.gap.last},
                        {"pad", ""}};
  report["pad"] = std::string(kWidth - report.dump().size() - 1, 'x');
  append_to_gap_file(file, report.dump() + "\n", limits);
  BOOST_TEST(gap_file_holds(file, earlier));
  int filler = 0;
  const auto fill = [&](int lines) {
    for (int i = 0; i < lines; ++i)
      append_to_gap_file(file, fixed_line("other", filler++, kWidth), limits);
  };
  auto copy = file;
  copy += ".1";
  fill(3);  // the fourth line: rotated into .1
  BOOST_TEST(!std::filesystem::exists(file));
  BOOST_TEST(lines_of(copy).size() == 4u);
  BOOST_TEST(gap_file_holds(file, earlier));
  fill(4);  // now in .2
  BOOST_TEST(gap_file_holds(file, earlier));
  fill(4);  // .1 replaced .2: beyond keep = 2, gone; a restart would report it again (a
            // duplicate report, never a missing one)
  BOOST_TEST(gap_file_set(file).size() == 2u);
  BOOST_TEST(!gap_file_holds(file, earlier));
}
