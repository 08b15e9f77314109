#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "danube/common/delivery_modes.hpp"
#include "danube/common/schema.hpp"
#include "danube/common/subscription_type.hpp"

namespace danube::client {

using danube::Dispatch;
using danube::Ordering;
using danube::SubscriptionType;
using danube::VersionStrategy;

// Retries of UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED, with delays from
// danube/common/backoff.hpp (initial = base_backoff, multiplier 2, jitter on).
struct RetryPolicy {
  std::uint32_t max_retries = 5;
  std::chrono::milliseconds base_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
};

// PEM files. An empty ca_file means the system's root certificates.
struct TlsOptions {
  std::string ca_file;
  std::string cert_file;  // client certificate, optional
  std::string key_file;   // client key, required with cert_file
};

struct ClientOptions {
  // http://host:port or https://host:port (https implies TLS with the system roots unless
  // `tls` names a CA). The scheme is stripped for gRPC.
  std::string service_url;
  std::optional<TlsOptions> tls;

  // A JWT sent as `authorization: Bearer <token>`: at most one of the three.
  std::string token;
  std::string token_file;                       // read once when the client is created
  std::function<std::string()> token_supplier;  // called for every request

  // How long lookups, producer creation and subscriptions wait for a broker connection per
  // attempt before failing it as unavailable (and retrying per `retry`).
  std::chrono::milliseconds connect_timeout{10'000};
  // The deadline of every unary call (streams have none).
  std::chrono::milliseconds request_timeout{30'000};
  std::size_t max_message_size = 4 * 1024 * 1024;
  RetryPolicy retry;
  // How often each producer and consumer asks the broker whether it is still known; 0 disables.
  std::chrono::milliseconds health_check_interval{5'000};
};

// The schema a producer names when it is created: a subject and which of its versions.
struct SchemaReference {
  std::string subject;
  VersionStrategy version;
};

struct ProducerOptions {
  std::string topic;
  std::string name;
  Dispatch dispatch = Dispatch::non_reliable;
  // 0: the topic itself. N > 0: topics <topic>-part-0 .. -part-(N-1), producers <name>-<i>.
  std::size_t partitions = 0;
  std::optional<SchemaReference> schema;
  Ordering ordering = Ordering::strict;
  std::size_t max_in_flight = 64;    // SendMessage calls at once, over all partitions
  std::size_t max_pending = 10'000;  // queued plus in flight; send_async blocks beyond this
};

struct ConsumerOptions {
  std::string topic;
  std::string consumer_name;
  std::string subscription;
  SubscriptionType type = kDefaultSubscriptionType;
  std::vector<std::string> key_filters;  // KeyShared only: glob patterns of keys to receive
  // The receive buffer: readers stop reading from the broker while it is full, so HTTP/2 flow
  // control pushes back and memory stays bounded.
  std::size_t buffer_max_messages = 1000;
  std::size_t buffer_max_bytes = 16 * 1024 * 1024;
  std::size_t max_in_flight_acks = 256;  // Ack/Nack calls at once
};

}  // namespace danube::client
