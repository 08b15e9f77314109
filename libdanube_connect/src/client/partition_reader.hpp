#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cancellation.hpp"
#include "client_core.hpp"
#include "consumer_counters.hpp"
#include "danube/DanubeApi.grpc.pb.h"
#include "danube/client/options.hpp"
#include "receive_buffer.hpp"

namespace danube::client::detail {

// Where acks, nacks and health checks for one partition subscription go right now.
struct PartitionEndpoint {
  std::uint64_t consumer_id = 0;
  BrokerAddress address;
  std::shared_ptr<Connection> connection;  // null until subscribed
};

// Owns one partition's subscription and reads its ReceiveMessages stream into the consumer's
// buffer. The reads run on the client's StreamLoop, one thread for all streams of all
// consumers, so threads do not grow with partitions. Before each read the reader looks for
// room in the buffer; when there is none it leaves the next read unstarted (nothing is read,
// gRPC stops granting HTTP/2 window, the broker stops sending) until the application takes
// messages and resume() starts it.
//
// A stream that ends is reopened; when the broker no longer knows the consumer (restart,
// CLOSE, NOT_FOUND) or the retry budget runs out, the reader subscribes again. That recovery
// blocks (lookups, connecting, Subscribe, backoff), so it runs on a thread of its own that
// lives only until the next stream is open. stop() cancels whatever the reader waits for
// (the stream, connecting, subscribing, backoff) and returns once nothing of it runs, so it
// returns promptly even while the broker is unreachable.
class PartitionReader {
 public:
  // `paused_readers` counts the consumer's readers that wait for room (see resume()).
  PartitionReader(std::shared_ptr<ClientCore> client, const ConsumerOptions& options,
                  std::string partition_topic, std::size_t index, ReceiveBuffer& buffer,
                  ConsumerCounters& counters, std::atomic<std::size_t>& paused_readers);
  ~PartitionReader();  // stop()
  PartitionReader(const PartitionReader&) = delete;
  PartitionReader& operator=(const PartitionReader&) = delete;

  // Subscribes with retries on the caller's thread; the first subscription's errors (missing
  // topic, exclusive conflict) belong to whoever asked for the consumer.
  Status subscribe();
  void start();  // opens the first stream
  // Starts the next read if the reader waits for room and the buffer has some again. Whoever
  // takes from the buffer calls it afterwards, when paused_readers is not zero.
  void resume();
  void request_resubscribe();  // the broker said CLOSE: cancel the stream, subscribe again
  void stop();                 // cancels the reader's work and waits for it; idempotent

  const std::string& topic() const { return topic_; }
  PartitionEndpoint endpoint() const;

 private:
  struct Stream;

  Status subscribe_once();
  bool stopping() const { return stop_.cancelled(); }
  bool buffer_has_room() const;

  void open_stream_locked();
  void on_stream_event(Stream& stream, bool ok);
  void read_next(Stream& stream);
  void start_read_locked(Stream& stream, bool closing);
  void on_stream_finished(Stream& stream);
  void recover(std::unique_ptr<Stream> finished, bool subscribe_first, bool back_off);

  std::shared_ptr<ClientCore> client_;
  const ConsumerOptions& options_;
  const std::string topic_;
  const std::size_t index_;
  ReceiveBuffer& buffer_;
  ConsumerCounters& counters_;
  std::atomic<std::size_t>& paused_readers_;

  Cancellation stop_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;  // no stream and no recovery any more
  PartitionEndpoint endpoint_;
  std::unique_ptr<Stream> stream_;           // open, until its Finish has completed
  std::unique_ptr<Stream> finished_stream_;  // the last one, for stop() to release
  bool resubscribe_requested_ = false;
  bool recovering_ = false;
  std::uint32_t failures_ = 0;  // streams in a row that ended without a message
  std::thread recovery_;
};

}  // namespace danube::client::detail
