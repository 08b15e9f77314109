// GET /status, POST /pause and POST /resume for a runtime: each request asks the runtime's root
// actor (through a bridge actor, with a timeout) and answers its status as JSON, with uptime
// and health from the shared health state.
#include <future>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/runtime_actor.hpp"
#include "danube/runtime/embedding.hpp"
#include "danube/services/dead_letter.hpp"

namespace danube::runtime {
namespace {

nlohmann::json topic_json(const std::string& kind, const TopicStatus& topic) {
  nlohmann::json json{{"received", topic.received},
                      {"failed", topic.failed},
                      {"retried", topic.retried},
                      {"dead_lettered", topic.dead_lettered},
                      {"in_flight", topic.in_flight}};
  if (kind == "source") {
    json["published"] = topic.processed;
    return json;
  }
  json["processed"] = topic.processed;
  json["acked"] = topic.acked;
  json["lost"] = topic.lost;
  json["redeliveries_skipped"] = topic.redeliveries_skipped;
  json["held"] = topic.held;
  return json;
}

// The document /status (and the answers to /pause and /resume) show. Sinks and sources share
// its shape; counts that one kind does not have are left out (docs/operating.md).
nlohmann::json status_json(const RuntimeStatus& status, const services::HealthSnapshot& health) {
  const bool source = status.kind == "source";
  nlohmann::json totals{{"received", status.received}, {"failed", status.failed},
                        {"retried", status.retried},   {"dead_lettered", status.dead_lettered},
                        {"skipped", status.skipped},   {"held", status.held}};
  std::int64_t in_flight = 0;
  nlohmann::json topics = nlohmann::json::object();
  for (const auto& topic : status.topics) {
    in_flight += topic.in_flight;
    topics[topic.topic] = topic_json(status.kind, topic);
  }
  totals["in_flight"] = in_flight;
  if (source) {
    totals["published"] = status.processed;
    totals["committed"] = status.committed;
  } else {
    totals["processed"] = status.processed;
    totals["acked"] = status.acked;
    totals["lost"] = status.lost;
    totals["redeliveries_skipped"] = status.redeliveries_skipped;
  }
  nlohmann::json last_error = nullptr;
  if (!status.last_error.empty()) {
    last_error = {{"message", status.last_error},
                  {"time", services::format_utc_millis(std::chrono::system_clock::time_point(
                               std::chrono::milliseconds(status.last_error_unix_ms)))}};
  }
  return {
      {"connector", status.connector},
      {"kind", status.kind},
      {"state", status.state},
      {"paused", status.paused},
      {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(health.uptime).count()},
      {"restarts", status.restarts},
      {"health",
       {{"status", health.failed ? "failed" : std::string(services::to_string(health.status))},
        {"live", health.live()},
        {"ready", health.ready()},
        {"connected", health.connected}}},
      {"totals", std::move(totals)},
      {"topics", std::move(topics)},
      {"last_error", std::move(last_error)},
  };
}

std::string dump(const nlohmann::json& json) {
  // Replace invalid UTF-8 rather than throw: error texts may quote external systems.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_body(const std::string& message) {
  return dump(nlohmann::json{{"error", message}});
}

// What the HTTP thread wants of the runtime, and where the answer goes.
enum class AdminRequest { status, pause, resume };
struct AdminAnswer {
  std::optional<RuntimeStatus> status;
  std::string problem;  // why there is none
};
struct AdminAsk {
  AdminRequest request = AdminRequest::status;
  std::shared_ptr<std::promise<AdminAnswer>> answer;
};

}  // namespace
}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::AdminAsk)

namespace danube::runtime {
namespace {

// Asks the runtime on behalf of the HTTP server's threads. Those only send to it and wait on a
// future: an actor of their own (a scoped_actor) would tie the actor system's shutdown to the
// server's threads, which CAF 0.17 waits for.
using admin_bridge_actor = caf::typed_actor<caf::reacts_to<AdminAsk>>;

admin_bridge_actor spawn_admin_bridge(caf::actor_system& system, connector_actor runtime,
                                      std::chrono::milliseconds timeout) {
  return system.spawn(
      [](TypedActor<admin_bridge_actor>* self, connector_actor runtime,
         std::chrono::milliseconds timeout) -> admin_bridge_actor::behavior_type {
        return {
            [=](const AdminAsk& ask) {
              auto answer = ask.answer;
              auto deliver = [answer](RuntimeStatus& status) {
                answer->set_value(AdminAnswer{std::move(status), {}});
              };
              auto fail = [self, answer, timeout](const caf::error& error) {
                answer->set_value(AdminAnswer{
                    std::nullopt,
                    error == caf::sec::request_timeout
                        ? "the runtime did not answer within " + std::to_string(timeout.count()) +
                              " ms"
                        : "the runtime has stopped (" + self->system().render(error) + ")"});
              };
              switch (ask.request) {
                case AdminRequest::status:
                  self->request(runtime, timeout, status_atom::value).then(deliver, fail);
                  break;
                case AdminRequest::pause:
                  self->request(runtime, timeout, pause_atom::value).then(deliver, fail);
                  break;
                case AdminRequest::resume:
                  self->request(runtime, timeout, resume_atom::value).then(deliver, fail);
                  break;
              }
            },
        };
      },
      std::move(runtime), timeout);
}

class RuntimeAdmin final : public services::AdminHandler {
 public:
  RuntimeAdmin(caf::actor_system& system, connector_actor runtime,
               std::shared_ptr<const services::HealthState> health,
               std::chrono::milliseconds timeout)
      : bridge_(spawn_admin_bridge(system, std::move(runtime), timeout)),
        health_(std::move(health)),
        timeout_(timeout) {}
  ~RuntimeAdmin() override { caf::anon_send_exit(bridge_, caf::exit_reason::user_shutdown); }
  RuntimeAdmin(const RuntimeAdmin&) = delete;
  RuntimeAdmin& operator=(const RuntimeAdmin&) = delete;

  services::AdminReply status() override {
    return ask(AdminRequest::status, [](const RuntimeStatus&) { return true; });
  }

  // A pause or resume the runtime did not take (it is draining) answers 409.
  services::AdminReply pause() override {
    return ask(AdminRequest::pause, [](const RuntimeStatus& status) { return status.paused; });
  }
  services::AdminReply resume() override {
    return ask(AdminRequest::resume, [](const RuntimeStatus& status) { return !status.paused; });
  }

 private:
  template <class Took>
  services::AdminReply ask(AdminRequest request, Took took) {
    auto promise = std::make_shared<std::promise<AdminAnswer>>();
    auto future = promise->get_future();
    caf::anon_send(bridge_, AdminAsk{request, std::move(promise)});
    // The bridge answers within the timeout it asks with; the margin covers its own turn.
    if (future.wait_for(timeout_ + std::chrono::seconds(1)) != std::future_status::ready) {
      return {503, error_body("the runtime did not answer in time")};
    }
    AdminAnswer answer = future.get();
    if (!answer.status) return {503, error_body(answer.problem)};
    auto body =
        status_json(*answer.status, health_ ? health_->snapshot() : services::HealthSnapshot{});
    if (!took(*answer.status)) {
      body["error"] = "the runtime is " + answer.status->state + ": intake can no longer change";
      return {409, dump(body)};
    }
    return {200, dump(body)};
  }

  admin_bridge_actor bridge_;
  std::shared_ptr<const services::HealthState> health_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::shared_ptr<services::AdminHandler> make_admin_handler(
    caf::actor_system& system, connector_actor runtime,
    std::shared_ptr<const services::HealthState> health, std::chrono::milliseconds timeout) {
  return std::make_shared<RuntimeAdmin>(system, std::move(runtime), std::move(health), timeout);
}

}  // namespace danube::runtime
