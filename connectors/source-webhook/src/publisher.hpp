#pragma once

// Hands a webhook's record to the runtime and, for a reliable endpoint, waits until the broker
// acknowledged it (see ack_tracker.hpp). Bounded everywhere: a full pipeline or a broker that
// does not answer turns into "try again later" (503), never into an unbounded queue.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "ack_tracker.hpp"
#include "danube/connect/source_record.hpp"
#include "danube/connect/source_sender.hpp"

namespace danube::webhook {

class Publisher {
 public:
  enum class Outcome {
    stored,            // reliable: the runtime committed the record (the broker has it)
    accepted,          // not reliable: the runtime took the record
    pipeline_full,     // the runtime did not take it within send_timeout
    not_acknowledged,  // taken, but not committed within ack_timeout: it may still arrive
    stopped,           // the runtime is stopping or restarting
  };

  Publisher(std::shared_ptr<AckTracker> tracker, std::chrono::milliseconds send_timeout,
            std::chrono::milliseconds ack_timeout);

  // Set by start_streaming(); until then (and after detach()) every publish is `stopped`.
  void attach(connect::SourceSender sender);
  void detach();
  bool attached() const;

  Outcome publish(connect::SourceRecord record, bool reliable);

 private:
  std::optional<connect::SourceSender> sender() const;

  std::shared_ptr<AckTracker> tracker_;
  std::chrono::milliseconds send_timeout_;
  std::chrono::milliseconds ack_timeout_;
  mutable std::mutex mutex_;
  std::optional<connect::SourceSender> sender_;
};

std::string_view to_string(Publisher::Outcome outcome);

}  // namespace danube::webhook
