// danube-grpc-floor-bench: what one Danube SendMessage costs a process that is nothing but
// gRPC 1.51 (no client library, no actors): sequential calls with one in flight, through
// grpc++'s callback API, its completion-queue API on a thread of our own, or a blocking call.
// It prints one JSON line: calls per second, p50/p99 per call, and the process's threads and
// resident memory after the calls. run_grpc_floor_benchmarks.sh runs it under callgrind too,
// so the instructions per call set a floor under the runtime's instructions per record.
//
//   danube-grpc-floor-bench --address HOST:PORT --api callback|queue|blocking --count N
//                           [--size BYTES] [--minimal-stack]
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.hpp"
#include "danube/DanubeApi.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Arguments {
  std::string address;
  std::string api = "callback";
  std::size_t count = 1000;
  std::size_t size = 45;  // about what simple_source's records are
  bool minimal_stack = false;
};

// The caller waits for each call's completion, which another thread reports, as a connector's
// actor waits for a completion from a client thread.
class Completion {
 public:
  void notify() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_one();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return done_; });
    done_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
};

// Threads, VmRSS, RssAnon and RssFile from /proc/self/status.
std::map<std::string, long> process_status() {
  std::map<std::string, long> values;
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "Threads:" || key == "VmRSS:" || key == "RssAnon:" || key == "RssFile:") {
      status >> value;
      values[key.substr(0, key.size() - 1)] = value;
    }
    status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return values;
}

class SequentialSender {
 public:
  SequentialSender(const Arguments& arguments, std::shared_ptr<grpc::Channel> channel)
      : api_(arguments.api), stub_(danube::ProducerService::NewStub(channel)) {
    if (api_ == "queue") {
      poller_ = std::thread([this] {
        void* tag = nullptr;
        bool ok = false;
        while (queue_.Next(&tag, &ok))
          static_cast<Completion*>(tag)->notify();
      });
    }
  }
  ~SequentialSender() {
    if (poller_.joinable()) {
      queue_.Shutdown();
      poller_.join();
    }
  }
  SequentialSender(const SequentialSender&) = delete;
  SequentialSender& operator=(const SequentialSender&) = delete;

  std::uint64_t create_producer(const std::string& topic) {
    danube::ProducerRequest request;
    request.set_request_id(1);
    request.set_producer_name("grpc-floor-" + api_);
    request.set_topic_name(topic);
    request.set_dispatch_strategy(danube::Reliable);
    danube::ProducerResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub_->CreateProducer(&context, request, &response);
    if (!status.ok()) throw std::runtime_error("CreateProducer: " + status.error_message());
    return response.producer_id();
  }

  grpc::Status send(const danube::StreamMessage& message) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    danube::MessageResponse response;
    grpc::Status status;
    if (api_ == "callback") {
      stub_->async()->SendMessage(&context, &message, &response, [&](grpc::Status result) {
        status = std::move(result);
        completion_.notify();
      });
      completion_.wait();
    } else if (api_ == "queue") {
      auto call = stub_->AsyncSendMessage(&context, message, &queue_);
      call->Finish(&response, &status, &completion_);
      completion_.wait();
    } else {
      status = stub_->SendMessage(&context, message, &response);
    }
    return status;
  }

 private:
  const std::string api_;
  std::unique_ptr<danube::ProducerService::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::thread poller_;
  Completion completion_;
};

Arguments parse(int argc, char** argv) {
  Arguments arguments;
  CLI::App app("danube-grpc-floor-bench: sequential SendMessage calls on bare gRPC");
  app.add_option("--address", arguments.address, "the broker, HOST:PORT")->required();
  app.add_option("--api", arguments.api)->check(CLI::IsMember({"callback", "queue", "blocking"}));
  app.add_option("--count", arguments.count)->check(CLI::PositiveNumber);
  app.add_option("--size", arguments.size);
  app.add_flag("--minimal-stack", arguments.minimal_stack,
               "GRPC_ARG_MINIMAL_STACK (no deadline filter; the client does not use it)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error) == 0 ? 0 : 2);
  }
  return arguments;
}

}  // namespace

int main(int argc, char** argv) {
  const Arguments arguments = parse(argc, argv);
  // As the client's channels are made: without transparent retries.
  grpc::ChannelArguments channel_arguments;
  channel_arguments.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (arguments.minimal_stack) channel_arguments.SetInt(GRPC_ARG_MINIMAL_STACK, 1);
  auto channel = grpc::CreateCustomChannel(arguments.address, grpc::InsecureChannelCredentials(),
                                           channel_arguments);
  const std::string topic = "/default/grpc-floor-" + arguments.api + "-" +
                            std::to_string(Clock::now().time_since_epoch().count());
  std::vector<double> call_us;
  call_us.reserve(arguments.count);
  double seconds = 0;
  std::map<std::string, long> status;  // taken while the sender (and its poller) still runs
  try {
    SequentialSender sender(arguments, channel);
    danube::StreamMessage message;
    message.mutable_msg_id()->set_producer_id(sender.create_producer(topic));
    message.mutable_msg_id()->set_topic_name(topic);
    message.set_producer_name("grpc-floor-" + arguments.api);
    message.set_payload(std::string(arguments.size, 'x'));
    const auto started = Clock::now();
    for (std::size_t i = 0; i < arguments.count; ++i) {
      message.set_request_id(i + 2);
      const auto call_started = Clock::now();
      if (const grpc::Status status = sender.send(message); !status.ok()) {
        std::fprintf(stderr, "SendMessage %zu: %s\n", i, status.error_message().c_str());
        return 1;
      }
      call_us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - call_started).count());
    }
    seconds = std::chrono::duration<double>(Clock::now() - started).count();
    status = process_status();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  std::printf(
      "{\"api\":\"%s\",\"minimal_stack\":%s,\"count\":%zu,\"size\":%zu,\"seconds\":%.3f,"
      "\"calls_per_sec\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f,\"threads\":%ld,\"rss_kb\":%ld,"
      "\"rss_anon_kb\":%ld,\"rss_file_kb\":%ld}\n",
      arguments.api.c_str(), arguments.minimal_stack ? "true" : "false", arguments.count,
      arguments.size, seconds, static_cast<double>(arguments.count) / seconds,
      danube::bench::percentile(call_us, 50), danube::bench::percentile(call_us, 99),
      status["Threads"], status["VmRSS"], status["RssAnon"], status["RssFile"]);
  return 0;
}
