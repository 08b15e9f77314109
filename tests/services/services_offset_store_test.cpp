// FileOffsetStore: load, atomic save, merge on commit, corrupted files named in errors.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "danube/connect/error.hpp"
#include "danube/services/offset_store.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;
using danube::connect::test::TempDir;

namespace {

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string load_error(const FileOffsetStore& store) {
  try {
    store.load();
  } catch (const ConnectorError& e) {
    BOOST_TEST(e.kind() == ErrorKind::io);
    return e.what();
  }
  BOOST_FAIL("expected an io error");
  return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_missing_file_means_no_offsets) {
  TempDir dir;
  const auto store = FileOffsetStore::for_connector(dir.path() / "state", "mqtt-source");
  BOOST_TEST(store.file() == dir.path() / "state" / "mqtt-source.offsets.json");
  BOOST_TEST(store.load().empty());
  BOOST_TEST(store.load_by_partition().empty());
}

BOOST_AUTO_TEST_CASE(save_and_load_round_trip) {
  TempDir dir;
  const auto store = FileOffsetStore::for_connector(dir.path() / "nested" / "state", "src");
  const std::vector<Offset> offsets{Offset("sensors/1", 17, "etag-9"),
                                    Offset("sensors/2", 18446744073709551615ULL),
                                    Offset("ünïcode", 0, "")};
  store.save(offsets);
  BOOST_TEST(store.load() == offsets);
  BOOST_TEST(!std::filesystem::exists(store.file().string() + ".tmp"));
  const auto text = read(store.file());
  BOOST_TEST(text.find("\"format\": 1") != std::string::npos);
  const auto by_partition = store.load_by_partition();
  BOOST_TEST(by_partition.at("sensors/1").metadata.value() == "etag-9");
}

BOOST_AUTO_TEST_CASE(commit_merges_by_partition) {
  TempDir dir;
  const auto store = FileOffsetStore::for_connector(dir.path(), "src");
  store.commit({Offset("a", 1), Offset("b", 5)});
  const auto merged = store.commit({Offset("a", 3, "m"), Offset("c", 1)});
  BOOST_TEST(merged.size() == 3u);
  const auto stored = store.load_by_partition();
  BOOST_TEST(stored.at("a").value == 3u);
  BOOST_TEST(stored.at("a").metadata.value() == "m");
  BOOST_TEST(stored.at("b").value == 5u);
  BOOST_TEST(stored.at("c").value == 1u);
}

BOOST_AUTO_TEST_CASE(save_replaces_the_previous_file_whole) {
  TempDir dir;
  const auto store = FileOffsetStore::for_connector(dir.path(), "src");
  store.save({Offset("a", 1), Offset("b", 2)});
  store.save({Offset("c", 3)});
  BOOST_TEST((store.load() == std::vector<Offset>{Offset("c", 3)}));
}

BOOST_AUTO_TEST_CASE(connector_names_become_safe_file_names) {
  TempDir dir;
  const auto store = FileOffsetStore::for_connector(dir.path(), "../../etc/passwd x");
  BOOST_TEST(store.file().parent_path() == dir.path());
  BOOST_TEST(store.file().filename() == ".._.._etc_passwd_x.offsets.json");
  store.save({Offset("p", 1)});
  BOOST_TEST(store.load().size() == 1u);
}

BOOST_AUTO_TEST_CASE(corrupted_files_are_named_in_the_error) {
  TempDir dir;
  const std::pair<std::string, std::string> cases[] = {
      {"{not json", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"offsets":[]})", "unsupported \"format\""},
      {R"({"format":2,"offsets":[]})", "unsupported \"format\""},
      {R"({"format":1})", "missing \"offsets\" array"},
      {R"({"format":1,"offsets":[5]})", "offsets[0] is not an object"},
      {R"({"format":1,"offsets":[{"value":1}]})", "offsets[0].partition must be a string"},
      {R"({"format":1,"offsets":[{"partition":"p","value":-1}]})",
       "offsets[0].value must be a non-negative integer"},
      {R"({"format":1,"offsets":[{"partition":"p","value":1,"metadata":3}]})",
       "offsets[0].metadata must be a string"},
      {"", "not valid JSON"},
      {std::string(10'000, '[') + std::string(10'000, ']'), "nesting deeper than 128"},
  };
  for (const auto& [contents, problem] : cases) {
    const auto file = dir.write("broken.offsets.json", contents);
    const auto message = load_error(FileOffsetStore(file));
    BOOST_TEST(message.find("corrupted offsets file " + file.string()) != std::string::npos,
               message);
    BOOST_TEST(message.find(problem) != std::string::npos, message << " / " << problem);
  }
}

BOOST_AUTO_TEST_CASE(unwritable_directories_are_io_errors) {
  TempDir dir;
  const auto blocker = dir.write("blocker", "a file where a directory should be");
  const FileOffsetStore store(blocker / "state" / "x.offsets.json");
  try {
    store.save({Offset("p", 1)});
    BOOST_FAIL("expected an io error");
  } catch (const ConnectorError& e) {
    BOOST_TEST(e.kind() == ErrorKind::io);
    BOOST_TEST(std::string(e.what()).find(blocker.string()) != std::string::npos);
  }
}
