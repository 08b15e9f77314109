#include "client_core.hpp"

#include <absl/synchronization/mutex.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "release_guard.hpp"

namespace danube::client::detail {
namespace {

Result<std::string> read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCategory::invalid_argument, 0, "cannot read " + what + " '" + path + "'");
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

Connection::Connection(std::shared_ptr<grpc::Channel> channel_in)
    : channel(std::move(channel_in)),
      producer(channel),
      consumer(channel),
      discovery(channel),
      health(channel),
      schema_registry(channel) {}

Error to_error(const std::string& what, const grpc::Status& status) {
  return Error::from_grpc_status(static_cast<int>(status.error_code()),
                                 what + ": " + status.error_message());
}

Result<std::shared_ptr<ClientCore>> ClientCore::create(ClientOptions options) {
  // Debian's Abseil is built without NDEBUG, which leaves absl::Mutex's deadlock detection on:
  // every lock gRPC takes updates a process-wide lock graph. A diagnostic, not a safeguard (it
  // aborts on a cycle it sees), and a few per cent of a client's instructions.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto url = parse_service_url(options.service_url);
  if (!url) return url.error();

  const int token_sources = static_cast<int>(!options.token.empty()) +
                            static_cast<int>(!options.token_file.empty()) +
                            static_cast<int>(static_cast<bool>(options.token_supplier));
  if (token_sources > 1) {
    return Error(ErrorCategory::invalid_argument, 0,
                 "set at most one of token, token_file and token_supplier");
  }
  std::string file_token;
  if (!options.token_file.empty()) {
    auto content = read_file(options.token_file, "token file");
    if (!content) return content.error();
    file_token = trim(std::move(content).value());
    if (file_token.empty()) {
      return Error(ErrorCategory::invalid_argument, 0,
                   "token file '" + options.token_file + "' is empty");
    }
  }

  std::shared_ptr<grpc::ChannelCredentials> tls_credentials;
  if (options.tls || url.value().tls) {
    grpc::SslCredentialsOptions ssl;
    if (options.tls) {
      const TlsOptions& tls = *options.tls;
      if (!tls.ca_file.empty()) {
        auto ca = read_file(tls.ca_file, "TLS CA file");
        if (!ca) return ca.error();
        ssl.pem_root_certs = std::move(ca).value();
      }
      if (tls.cert_file.empty() != tls.key_file.empty()) {
        return Error(ErrorCategory::invalid_argument, 0,
                     "a TLS client certificate needs both cert_file and key_file");
      }
      if (!tls.cert_file.empty()) {
        auto cert = read_file(tls.cert_file, "TLS certificate file");
        if (!cert) return cert.error();
        auto key = read_file(tls.key_file, "TLS key file");
        if (!key) return key.error();
        ssl.pem_cert_chain = std::move(cert).value();
        ssl.pem_private_key = std::move(key).value();
      }
    }
    tls_credentials = grpc::SslCredentials(ssl);
  }
  if (token_sources > 0 && !tls_credentials) {
    spdlog::warn(
        "component=danube_client event=plaintext_token service_url={} "
        "note=\"the token is sent without TLS\"",
        options.service_url);
  }
  return std::shared_ptr<ClientCore>(
      new ClientCore(std::move(options), std::move(url).value(), std::move(tls_credentials),
                     std::move(file_token)),
      CoreDeleter<ClientCore>{});
}

ClientCore::ClientCore(ClientOptions options, ServiceUrl service_url,
                       std::shared_ptr<grpc::ChannelCredentials> tls_credentials,
                       std::string file_token)
    : options_(std::move(options)),
      service_url_(std::move(service_url)),
      tls_credentials_(std::move(tls_credentials)),
      file_token_(std::move(file_token)),
      backoff_(BackoffPolicy{options_.retry.base_backoff, options_.retry.max_backoff, 2.0, true,
                             options_.retry.max_retries}) {}

ClientCore::~ClientCore() = default;

BrokerAddress ClientCore::service_address() const {
  return BrokerAddress{options_.service_url, options_.service_url, false};
}

std::shared_ptr<Connection> ClientCore::connection(const std::string& url) {
  auto parsed = parse_service_url(url);
  // Broker URLs come from the broker itself; fall back to the service URL if one is unusable.
  const ServiceUrl target = parsed ? parsed.value() : service_url_;
  std::lock_guard lock(connections_mutex_);
  auto& connection = connections_[target.target];
  if (!connection) {
    grpc::ChannelArguments args;
    const int max_size = static_cast<int>(options_.max_message_size) + 64 * 1024;
    args.SetMaxReceiveMessageSize(max_size);
    args.SetMaxSendMessageSize(max_size);
    // Reconnect quickly after a broker restart; gRPC's default backoff grows to two minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
    // gRPC's own retries (on by default) put a retry filter into every call, which keeps a
    // copy of what it sends for a replay: 7 % of a source's instructions per record. Every
    // caller of this client retries with its own backoff (ClientOptions::retry, the runtime's
    // [retry]) and sees the failure instead. (GRPC_ARG_MINIMAL_STACK would save 4 % more, but
    // it drops the filter that enforces call deadlines.)
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    const bool tls = tls_credentials_ || target.tls;
    auto credentials =
        tls ? (tls_credentials_ ? tls_credentials_
                                : grpc::SslCredentials(grpc::SslCredentialsOptions{}))
            : grpc::InsecureChannelCredentials();
    connection =
        std::make_shared<Connection>(grpc::CreateCustomChannel(target.target, credentials, args));
  }
  return connection;
}

std::string ClientCore::current_token() const {
  if (options_.token_supplier) return options_.token_supplier();
  if (!file_token_.empty()) return file_token_;
  return options_.token;
}

void ClientCore::prepare(grpc::ClientContext& context, const BrokerAddress* address,
                         std::chrono::milliseconds timeout) const {
  if (timeout.count() > 0) context.set_deadline(std::chrono::system_clock::now() + timeout);
  const std::string token = current_token();
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  if (address != nullptr && address->proxy) {
    context.AddMetadata("x-danube-broker-url", address->broker_url);
  }
}

Result<BrokerAddress> ClientCore::lookup_topic(const std::string& topic,
                                               const Cancellation* cancel) {
  danube::TopicLookupRequest request;
  request.set_request_id(next_request_id());
  request.set_topic(topic);
  danube::TopicLookupResponse response;
  const grpc::Status status = call_with_retries(
      "TopicLookup " + topic, nullptr,
      [&](grpc::ClientContext& context, Connection& connection) {
        return connection.discovery.TopicLookup(&context, request, &response);
      },
      cancel);
  if (!status.ok()) return to_error("TopicLookup " + topic, status);
  if (response.response_type() == danube::TopicLookupResponse::Failed) {
    return Error(ErrorCategory::internal, 0,
                 "TopicLookup " + topic + ": the broker answered Failed");
  }
  BrokerAddress address;
  address.connect_url =
      response.connect_url().empty() ? options_.service_url : response.connect_url();
  address.broker_url = response.broker_url().empty() ? address.connect_url : response.broker_url();
  address.proxy = response.proxy() && address.broker_url != address.connect_url;
  return address;
}

BrokerAddress ClientCore::resolve_topic(const std::string& topic, const Cancellation* cancel) {
  auto address = lookup_topic(topic, cancel);
  if (address) return address.value();
  spdlog::debug("component=danube_client event=lookup_fallback topic={} error=\"{}\"", topic,
                address.error().to_string());
  return service_address();
}

Result<std::vector<std::string>> ClientCore::topic_partitions(const std::string& topic,
                                                              const Cancellation* cancel) {
  danube::TopicLookupRequest request;
  request.set_request_id(next_request_id());
  request.set_topic(topic);
  danube::TopicPartitionsResponse response;
  const grpc::Status status = call_with_retries(
      "TopicPartitions " + topic, nullptr,
      [&](grpc::ClientContext& context, Connection& connection) {
        return connection.discovery.TopicPartitions(&context, request, &response);
      },
      cancel);
  if (!status.ok()) return to_error("TopicPartitions " + topic, status);
  return std::vector<std::string>(response.partitions().begin(), response.partitions().end());
}

grpc::Status ClientCore::await_connection(grpc::Channel& channel, const std::string& url,
                                          const Cancellation* cancel) {
  const auto deadline = std::chrono::system_clock::now() + options_.connect_timeout;
  for (auto state = channel.GetState(/*try_to_connect=*/true); state != GRPC_CHANNEL_READY;
       state = channel.GetState(/*try_to_connect=*/true)) {
    if (cancel != nullptr && cancel->cancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "closed");
    }
    const auto now = std::chrono::system_clock::now();
    if (now >= deadline) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "could not connect to " + url + " within " +
                              std::to_string(options_.connect_timeout.count()) + " ms");
    }
    // Short slices, so `cancelled` is noticed soon.
    channel.WaitForStateChange(state, std::min(deadline, now + std::chrono::milliseconds(100)));
  }
  return grpc::Status::OK;
}

grpc::Status ClientCore::call_with_retries(
    const std::string& what, const BrokerAddress* address,
    const std::function<grpc::Status(grpc::ClientContext&, Connection&)>& call,
    const Cancellation* cancel) {
  const std::string& url = address != nullptr ? address->connect_url : options_.service_url;
  const auto target = connection(url);
  for (std::uint32_t attempt = 0;; ++attempt) {
    grpc::Status status = await_connection(*target->channel, url, cancel);
    if (status.ok()) {
      grpc::ClientContext context;
      prepare(context, address);
      const Cancellation::Tracked tracked(cancel, context);
      status = call(context, *target);
    }
    if (status.ok() || !is_retryable_code(status.error_code()) ||
        attempt >= options_.retry.max_retries) {
      return status;
    }
    const auto delay = backoff_.delay(attempt + 1);
    spdlog::debug(
        "component=danube_client event=retry call=\"{}\" attempt={} delay_ms={} error=\"{}\"", what,
        attempt + 1, delay.count(), status.error_message());
    if (cancel != nullptr) {
      if (!cancel->sleep_for(delay)) return grpc::Status(grpc::StatusCode::CANCELLED, "closed");
    } else {
      std::this_thread::sleep_for(delay);
    }
  }
}

bool ClientCore::is_connected() {
  return service_connection()->channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY;
}

bool ClientCore::wait_for_connection(std::chrono::milliseconds timeout) {
  auto connection = service_connection();
  return connection->channel->WaitForConnected(std::chrono::system_clock::now() + timeout);
}

}  // namespace danube::client::detail
