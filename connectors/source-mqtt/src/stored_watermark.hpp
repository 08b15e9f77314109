#pragma once

// Lets the thread that received an MQTT message wait until the runtime reports the message
// stored in Danube, so that the message is acknowledged to the MQTT broker only then.
//
// Every message gets the next number of one sequence; the runtime's commit() reports the
// highest number up to which every message is settled (published, or dead-lettered), which
// moves the watermark.
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace danube::source_mqtt {

class StoredWatermark {
 public:
  // Numbers start after `last_committed` (the value committed before a restart, or 0).
  explicit StoredWatermark(std::uint64_t last_committed);

  std::uint64_t next_number();
  // Every number up to `number` is stored.
  void stored_up_to(std::uint64_t number);
  // Wakes every waiter for good: wait_stored() returns false from now on.
  void stop();

  // Blocks until `number` is stored (true) or stop() was called (false).
  bool wait_stored(std::uint64_t number);
  std::uint64_t stored() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t next_;
  std::uint64_t stored_;
  bool stopped_ = false;
};

}  // namespace danube::source_mqtt
