// The sink buffer on its own: the frame codec, appends made visible only by sync, in-order
// hand-out, done bookkeeping in any order, segment deletion, the size bound, recovery after the
// owner is gone (cursor, torn tail, damaged segment) and the single-owner lock.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "runtime_test_support.hpp"
#include "sink/buffered_message_codec.hpp"
#include "sink/sink_buffer.hpp"

using namespace danube;
using namespace danube::runtime;

namespace {

client::ReceivedMessage message(std::uint64_t index, std::size_t payload_bytes = 32) {
  client::ReceivedMessage m;
  m.request_id = 1000 + index;
  m.id.producer_id = 7;
  m.id.topic_name = "/default/buffered-part-1";
  m.id.broker_addr = "http://127.0.0.1:6650";
  m.id.topic_offset = index;
  m.payload = "m-" + std::to_string(index);
  m.payload.resize(std::max(m.payload.size(), payload_bytes), '.');
  m.publish_time = 1'700'000'000'000 + index;
  m.producer_name = "producer-a";
  m.subscription_name = "sub";
  m.attributes = {{"index", std::to_string(index)}, {"origin", "test"}};
  m.topic = "/default/buffered";
  m.partition = 1;
  return m;
}

std::vector<std::uint64_t> sequences(const std::vector<SinkBuffer::Entry>& entries) {
  std::vector<std::uint64_t> out;
  for (const auto& entry : entries)
    out.push_back(entry.sequence);
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t end) {
  std::vector<std::uint64_t> out;
  for (auto i = first; i < end; ++i)
    out.push_back(i);
  return out;
}

std::vector<std::filesystem::path> segment_files(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == ".seg") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A frame's size on disk for message(0, payload_bytes); later indexes add at most 2 bytes.
std::uint64_t frame_bytes(std::size_t payload_bytes) {
  return encode_buffered_message(message(0, payload_bytes)).size() + 8;
}

// Segments that close after exactly four frames of message(i, payload_bytes), i < 100.
std::uint64_t four_frames(std::size_t payload_bytes) {
  return 4 * frame_bytes(payload_bytes) - 1;
}

SinkBuffer::Options options_in(const std::filesystem::path& directory,
                               std::uint64_t segment_bytes = 16 << 20,
                               std::uint64_t max_bytes = 1 << 30) {
  SinkBuffer::Options options;
  options.directory = directory;
  options.segment_bytes = segment_bytes;
  options.max_bytes = max_bytes;
  return options;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_message_survives_encoding_with_every_field) {
  auto original = message(42);
  original.schema_id = 9;
  original.schema_version = 3;
  original.routing_key = "user-7";
  const auto decoded = decode_buffered_message(encode_buffered_message(original));
  BOOST_REQUIRE(decoded);
  BOOST_TEST(decoded->request_id == original.request_id);
  BOOST_TEST(decoded->id.producer_id == original.id.producer_id);
  BOOST_TEST(decoded->id.topic_name == original.id.topic_name);
  BOOST_TEST(decoded->id.broker_addr == original.id.broker_addr);
  BOOST_TEST(decoded->id.topic_offset == original.id.topic_offset);
  BOOST_TEST(decoded->payload == original.payload);
  BOOST_TEST(decoded->publish_time == original.publish_time);
  BOOST_TEST(decoded->producer_name == original.producer_name);
  BOOST_TEST(decoded->subscription_name == original.subscription_name);
  BOOST_TEST((decoded->attributes == original.attributes));
  BOOST_TEST(*decoded->schema_id == 9u);
  BOOST_TEST(*decoded->schema_version == 3u);
  BOOST_TEST(*decoded->routing_key == "user-7");
  BOOST_TEST(decoded->topic == original.topic);
  BOOST_TEST(decoded->partition == original.partition);

  const auto plain = decode_buffered_message(encode_buffered_message(message(1)));
  BOOST_REQUIRE(plain);
  BOOST_TEST(!plain->schema_id);
  BOOST_TEST(!plain->schema_version);
  BOOST_TEST(!plain->routing_key);
}

BOOST_AUTO_TEST_CASE(a_damaged_frame_is_refused_never_misread) {
  auto original = message(5);
  original.routing_key = "k";
  const auto bytes = encode_buffered_message(original);
  for (std::size_t length = 0; length < bytes.size(); ++length)
    BOOST_TEST(!decode_buffered_message(std::string_view(bytes).substr(0, length)));
  BOOST_TEST(!decode_buffered_message(bytes + "x"));
  auto wrong_version = bytes;
  wrong_version[0] = 2;
  BOOST_TEST(!decode_buffered_message(wrong_version));
}

BOOST_AUTO_TEST_CASE(appended_messages_are_handed_out_in_order_once_synced) {
  test::TempDirectory dir;
  SinkBuffer buffer(options_in(dir.path / "p"));
  for (int i = 0; i < 5; ++i)
    buffer.append(message(i));
  BOOST_TEST(buffer.next(100, 1 << 20).empty());  // not durable yet
  BOOST_TEST(buffer.has_unsynced());
  buffer.sync();
  BOOST_TEST(buffer.ready() == 5u);
  const auto first = buffer.next(3, 1 << 20);
  BOOST_TEST(sequences(first) == range(0, 3));
  BOOST_TEST(first[1].message.payload == message(1).payload);
  BOOST_TEST(sequences(buffer.next(100, 1 << 20)) == range(3, 5));
  BOOST_TEST(buffer.next(100, 1 << 20).empty());
  BOOST_TEST(buffer.pending() == 5u);
  // The byte limit still lets one through.
  buffer.append(message(5));
  buffer.append(message(6));
  buffer.sync();
  BOOST_TEST(sequences(buffer.next(100, 1)) == range(5, 6));
}

BOOST_AUTO_TEST_CASE(done_in_any_order_moves_the_cursor_and_deletes_finished_segments) {
  test::TempDirectory dir;
  SinkBuffer buffer(options_in(dir.path / "p", four_frames(150), 1 << 20));
  for (int i = 0; i < 20; ++i)
    buffer.append(message(i, 150));
  buffer.sync();
  const auto entries = buffer.next(100, 1 << 20);
  BOOST_REQUIRE_EQUAL(entries.size(), 20u);
  const auto segments_before = segment_files(dir.path / "p").size();
  BOOST_TEST(segments_before == 5u);
  const auto bytes_before = buffer.bytes();

  buffer.done(2);
  buffer.done(1);
  BOOST_TEST(buffer.pending() == 20u);  // 0 is not done: nothing moves
  buffer.done(0);
  BOOST_TEST(buffer.pending() == 17u);
  for (std::uint64_t i = 3; i < 12; ++i)
    buffer.done(i);
  BOOST_TEST(buffer.pending() == 8u);
  BOOST_TEST(segment_files(dir.path / "p").size() < segments_before);
  BOOST_TEST(buffer.bytes() < bytes_before);
  for (std::uint64_t i = 12; i < 20; ++i)
    buffer.done(i);
  BOOST_TEST(buffer.pending() == 0u);
  BOOST_TEST(segment_files(dir.path / "p").size() <= 1u);  // at most the open one
}

BOOST_AUTO_TEST_CASE(a_new_owner_replays_what_was_not_done) {
  test::TempDirectory dir;
  {
    SinkBuffer buffer(options_in(dir.path / "p", four_frames(150), 1 << 20));
    for (int i = 0; i < 10; ++i)
      buffer.append(message(i, 150));
    buffer.sync();
    BOOST_REQUIRE_EQUAL(buffer.next(100, 1 << 20).size(), 10u);
    for (std::uint64_t i = 0; i < 6; ++i)
      buffer.done(i);
    buffer.done(7);  // done out of order: replayed anyway (the cursor is at 6)
    buffer.save_cursor();
  }
  SinkBuffer reopened(options_in(dir.path / "p", four_frames(150), 1 << 20));
  BOOST_TEST(reopened.recovered() == 4u);
  BOOST_TEST(reopened.pending() == 4u);
  const auto replayed = reopened.next(100, 1 << 20);
  BOOST_TEST(sequences(replayed) == range(6, 10));
  BOOST_TEST(replayed[0].message.payload == message(6, 150).payload);
  BOOST_TEST(replayed[0].message.id.topic_offset == 6u);
  // Appends continue the numbering.
  reopened.append(message(10));
  reopened.sync();
  BOOST_TEST(sequences(reopened.next(100, 1 << 20)) == range(10, 11));
}

BOOST_AUTO_TEST_CASE(a_torn_tail_is_cut_and_appends_go_on_after_it) {
  test::TempDirectory dir;
  {
    SinkBuffer buffer(options_in(dir.path / "p"));
    for (int i = 0; i < 5; ++i)
      buffer.append(message(i));
    buffer.sync();
  }
  const auto files = segment_files(dir.path / "p");
  BOOST_REQUIRE_EQUAL(files.size(), 1u);
  const auto whole = std::filesystem::file_size(files[0]);
  {
    // What a process killed in the middle of a write leaves: part of a frame header.
    std::ofstream out(files[0], std::ios::binary | std::ios::app);
    out.write("\x40\x00\x00", 3);
  }
  SinkBuffer reopened(options_in(dir.path / "p"));
  BOOST_TEST(std::filesystem::file_size(files[0]) == whole);
  BOOST_TEST(reopened.recovered() == 5u);
  reopened.append(message(5));
  reopened.sync();
  const auto entries = reopened.next(100, 1 << 20);
  BOOST_TEST(sequences(entries) == range(0, 6));
  BOOST_TEST(entries.back().message.payload == message(5).payload);
}

BOOST_AUTO_TEST_CASE(a_damaged_segment_loses_only_its_rest_and_the_buffer_goes_on) {
  test::TempDirectory dir;
  {
    SinkBuffer buffer(options_in(dir.path / "p", four_frames(150), 1 << 20));
    for (int i = 0; i < 12; ++i)
      buffer.append(message(i, 150));
    buffer.sync();
  }
  const auto files = segment_files(dir.path / "p");
  BOOST_REQUIRE_EQUAL(files.size(), 3u);
  {
    // Flip a byte in the second frame of the first segment.
    std::fstream file(files[0], std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(frame_bytes(150) + 50));
    file.put('#');
  }
  SinkBuffer reopened(options_in(dir.path / "p", four_frames(150), 1 << 20));
  const auto entries = reopened.next(100, 1 << 20);
  BOOST_REQUIRE(!entries.empty());
  BOOST_TEST(entries.front().sequence == 0u);
  BOOST_TEST(entries.front().message.payload == message(0, 150).payload);
  // The rest of the first segment is gone; everything from the second segment on is there.
  BOOST_TEST(entries[1].sequence == 4u);
  BOOST_TEST(entries.back().sequence == 11u);
  BOOST_TEST(entries.size() == 9u);
  for (const auto& entry : entries)
    reopened.done(entry.sequence);
  BOOST_TEST(reopened.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(the_buffer_is_full_at_its_bound_until_finished_segments_go) {
  test::TempDirectory dir;
  // Segments of two frames, full at eight.
  const auto frame = frame_bytes(1000);
  SinkBuffer buffer(options_in(dir.path / "p", 2 * frame - 1, 8 * frame - 1));
  int appended = 0;
  while (!buffer.full()) {
    buffer.append(message(appended++, 1000));
    BOOST_REQUIRE(appended < 100);
  }
  BOOST_TEST(appended == 8);
  buffer.sync();
  const auto entries = buffer.next(100, 1 << 20);
  for (std::size_t i = 0; i < 4; ++i)
    buffer.done(entries[i].sequence);
  BOOST_TEST(!buffer.full());
}

BOOST_AUTO_TEST_CASE(one_owner_at_a_time) {
  test::TempDirectory dir;
  SinkBuffer first(options_in(dir.path / "p"));
  try {
    SinkBuffer second(options_in(dir.path / "p"));
    BOOST_FAIL("a second owner opened the buffer");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("in use") != std::string::npos, e.what());
  }
}
