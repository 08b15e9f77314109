#pragma once

// Tells the MQTT network thread whether every QoS 1/2 message it handed to the runtime is stored
// in Danube, so that their acknowledgements may go to the MQTT broker.
//
// Every such message gets the next number of one sequence (its offset); the runtime's commit()
// reports the highest number up to which every message is settled (published, or
// dead-lettered), which moves the watermark.
#include <cstdint>
#include <mutex>

namespace danube::source_mqtt {

class StoredWatermark {
 public:
  // Numbers start after `last_committed` (the value committed before a restart, or 0).
  explicit StoredWatermark(std::uint64_t last_committed);

  std::uint64_t next_number();
  // Every number up to `number` is stored; never moves backwards.
  void stored_up_to(std::uint64_t number);
  std::uint64_t stored() const;
  // Whether every number handed out so far is stored.
  bool all_stored() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_;
  std::uint64_t stored_;
};

}  // namespace danube::source_mqtt
