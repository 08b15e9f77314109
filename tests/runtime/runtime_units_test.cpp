// Deterministic tests of the runtime's timing and supervision logic on CAF's test coordinator:
// no threads run unless the test says so, and time only moves when the test advances it, so
// backoff delays are checked exactly without sleeping.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <functional>
#include <variant>

#include "common/runtime_context.hpp"
#include "common/supervision.hpp"
#include "danube/runtime/embedding.hpp"
#include "sink/dispatcher_actor.hpp"
#include "source/publish_pacer.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace std::chrono_literals;

namespace {

caf::actor_system_config& testing_config() {
  static caf::actor_system_config config = [] {
    caf::actor_system_config c;
    c.set("scheduler.policy", caf::atom("testing"));
    c.set("logger.verbosity", caf::atom("quiet"));
    return c;
  }();
  return config;
}

// What a stand-in actor received, in order.
template <class Message>
using Inbox = std::vector<Message>;

// A stand-in for an actor of interface `Handle`, which accepts exactly one message type.
template <class Handle, class Message>
Handle spawn_recorder(caf::actor_system& system, std::shared_ptr<Inbox<Message>> inbox) {
  return system.spawn(
      [](typename Handle::pointer, std::shared_ptr<Inbox<Message>> inbox) ->
      typename Handle::behavior_type {
        return {[inbox](Message& message) { inbox->push_back(std::move(message)); }};
      },
      std::move(inbox));
}

ContextPtr test_context(connect::ConnectorConfig config) {
  config.danube_service_url = "http://127.0.0.1:1";  // never contacted in these tests
  client::ClientOptions options;
  options.service_url = config.danube_service_url;
  auto client = client::DanubeClient::create(options).value();
  return std::make_shared<RuntimeContext>(RuntimeContext{
      config, client, std::make_shared<services::ConnectorMetrics>(config.connector_name),
      std::make_shared<services::HealthState>(config.connector_name), nullptr});
}

InflightRecord record(std::size_t source, std::uint64_t offset, record_owner_actor owner) {
  InflightRecord result;
  result.topic = "/default/t";
  result.source = source;
  result.owner = std::move(owner);
  result.message.id.topic_name = "/default/t";
  result.message.id.topic_offset = offset;
  result.message.payload = "p" + std::to_string(offset);
  return result;
}

struct Coordinator {
  // Actors never end by themselves here; the system waits for them, so the fixture ends them.
  ~Coordinator() {
    for (const auto& kill : kills)
      kill();
    scheduler.run();
  }
  template <class Handle>
  Handle keep(Handle actor) {
    kills.push_back([actor] { caf::anon_send_exit(actor, caf::exit_reason::kill); });
    return actor;
  }
  caf::actor_system system{testing_config()};
  caf::scheduler::test_coordinator& scheduler =
      dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  std::vector<std::function<void()>> kills;
};

// A dispatcher with stand-ins for the worker, the records' owner, the dead-letter router and
// the supervisor.
struct DispatcherFixture : Coordinator {
  explicit DispatcherFixture(DispatcherConfig config) {
    config.worker = keep(spawn_recorder<batch_processor_actor>(system, requests));
    config.dead_letter_router = keep(spawn_recorder<dead_letter_sink_actor>(system, dead_letters));
    config.supervisor = keep(spawn_recorder<failure_listener_actor>(system, failures));
    owner = keep(spawn_recorder<record_owner_actor>(system, acks));
    dispatcher = keep(spawn_dispatcher(system, std::move(config)));
    scheduler.run();
  }

  std::vector<InflightRecord> records(std::size_t source, int count, int first) const {
    std::vector<InflightRecord> result;
    for (int i = 0; i < count; ++i) {
      auto r = record(source, first + i, owner);
      r.received_at = Clock::now();
      result.push_back(std::move(r));
    }
    return result;
  }
  // The worker's outcome of request `index`: record k fails with errors[k] (none past its end).
  ProcessOutcome outcome_of(std::size_t index,
                            std::vector<std::optional<connect::ConnectorError>> errors = {}) {
    ProcessOutcome outcome;
    outcome.batch_id = (*requests)[index].batch_id;
    outcome.records = std::move((*requests)[index].records);
    errors.resize(outcome.records.size());
    outcome.errors = std::move(errors);
    outcome.deferred.assign(outcome.records.size(), false);
    return outcome;
  }
  std::size_t acked() const {
    std::size_t count = 0;
    for (const auto& ack : *acks)
      count += ack.records.size();
    return count;
  }

  std::shared_ptr<Inbox<ProcessRequest>> requests = std::make_shared<Inbox<ProcessRequest>>();
  std::shared_ptr<Inbox<DeadLetterRequest>> dead_letters =
      std::make_shared<Inbox<DeadLetterRequest>>();
  std::shared_ptr<Inbox<ConnectorFailed>> failures = std::make_shared<Inbox<ConnectorFailed>>();
  std::shared_ptr<Inbox<AckRecords>> acks = std::make_shared<Inbox<AckRecords>>();
  record_owner_actor owner;
  dispatcher_actor dispatcher;
};

DispatcherConfig dispatcher_config(connect::ConnectorConfig config, std::size_t batch_size,
                                   std::chrono::milliseconds linger,
                                   std::shared_ptr<danube::Backoff> backoff) {
  DispatcherConfig result;
  config.connector_name = "unit";
  result.context = test_context(std::move(config));
  result.batch_size = batch_size;
  result.linger = linger;
  result.backoff = std::move(backoff);
  return result;
}

}  // namespace

struct RetryingDispatcher : DispatcherFixture {
  RetryingDispatcher()
      // No jitter: 100 ms, then 200 ms; two retries.
      : DispatcherFixture(dispatcher_config(
            {}, 10, 50ms, std::make_shared<danube::Backoff>(100ms, 10s, 2.0, false, 2))) {}
};

BOOST_FIXTURE_TEST_CASE(a_retryable_record_is_retried_exactly_after_its_backoff,
                        RetryingDispatcher) {
  auto batch = records(0, 2, 10);
  batch.push_back(record(1, 20, owner));
  caf::anon_send(dispatcher, RecordBatch{0, std::move(batch), true});
  scheduler.run();
  BOOST_REQUIRE_EQUAL(requests->size(), 1u);
  // Sources take turns: 10 (source 0), 20 (source 1), 11 (source 0).
  BOOST_REQUIRE_EQUAL((*requests)[0].records.size(), 3u);
  BOOST_TEST((*requests)[0].records[0].message.id.topic_offset == 10u);

  // 10 fails retryably; 20 and 11 are fine and acked at once.
  caf::anon_send(dispatcher, outcome_of(0, {connect::ConnectorError::retryable("busy")}));
  scheduler.run();
  BOOST_TEST(acked() == 2u);
  scheduler.advance_time(99ms);
  scheduler.run();
  BOOST_TEST(requests->size() == 1u);
  scheduler.advance_time(1ms);
  scheduler.run();
  BOOST_REQUIRE_EQUAL(requests->size(), 2u);
  BOOST_REQUIRE_EQUAL((*requests)[1].records.size(), 1u);
  BOOST_TEST((*requests)[1].records[0].attempts == 1u);

  // Second failure: 200 ms.
  caf::anon_send(dispatcher, outcome_of(1, {connect::ConnectorError::retryable("busy")}));
  scheduler.run();
  scheduler.advance_time(199ms);
  scheduler.run();
  BOOST_TEST(requests->size() == 2u);
  scheduler.advance_time(1ms);
  scheduler.run();
  BOOST_REQUIRE_EQUAL(requests->size(), 3u);

  // Third failure: retries are exhausted, the record goes to the dead-letter router.
  caf::anon_send(dispatcher, outcome_of(2, {connect::ConnectorError::retryable("busy")}));
  scheduler.run();
  BOOST_REQUIRE_EQUAL(dead_letters->size(), 1u);
  const auto& dead = (*dead_letters)[0];
  BOOST_REQUIRE_EQUAL(dead.items.size(), 1u);
  BOOST_TEST(dead.items[0].message.attributes.at("dlq.attempts") == "3");
  BOOST_TEST(dead.items[0].message.attributes.at("dlq.error_kind") == "retryable");
  // Its ack waits for the dead letter's publication.
  BOOST_TEST(std::holds_alternative<AckWhenDeadLettered>(dead.items[0].on_published));
  BOOST_TEST(acked() == 2u);
  scheduler.advance_time(10s);
  scheduler.run();
  BOOST_TEST(requests->size() == 3u);  // no further retry
  BOOST_TEST(failures->empty());
}

BOOST_FIXTURE_TEST_CASE(a_fatal_error_stops_the_flow_and_reports_the_incarnation,
                        RetryingDispatcher) {
  caf::anon_send(dispatcher, RecordBatch{0, records(0, 2, 0), true});
  scheduler.run();
  BOOST_REQUIRE_EQUAL(requests->size(), 1u);
  caf::anon_send(dispatcher, outcome_of(0, {connect::ConnectorError::fatal("disk gone")}));
  caf::anon_send(dispatcher, RecordBatch{0, records(0, 1, 2), true});
  scheduler.run();
  BOOST_REQUIRE_EQUAL(failures->size(), 1u);
  BOOST_TEST((*failures)[0].where == "process_batch");
  BOOST_TEST(acked() == 1u);           // the record that succeeded
  BOOST_TEST(requests->size() == 1u);  // nothing more goes to the worker
}

BOOST_FIXTURE_TEST_CASE(each_owner_gets_its_processed_records_in_one_ack_in_order,
                        RetryingDispatcher) {
  const auto other_acks = std::make_shared<Inbox<AckRecords>>();
  const auto other = keep(spawn_recorder<record_owner_actor>(system, other_acks));
  std::vector<InflightRecord> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(record(0, 10 + i, owner));
    batch.push_back(record(1, 20 + i, other));
  }
  caf::anon_send(dispatcher, RecordBatch{0, std::move(batch), true});
  scheduler.run();
  BOOST_REQUIRE_EQUAL(requests->size(), 1u);
  BOOST_REQUIRE_EQUAL((*requests)[0].records.size(), 6u);
  // Record 21 fails for good and is dead-lettered; the others are acked by their owners.
  std::vector<std::optional<connect::ConnectorError>> errors(6);
  for (std::size_t i = 0; i < 6; ++i) {
    if ((*requests)[0].records[i].message.id.topic_offset == 21) {
      errors[i] = connect::ConnectorError::invalid_data("bad record");
    }
  }
  caf::anon_send(dispatcher, outcome_of(0, std::move(errors)));
  scheduler.run();
  const auto offsets = [](const AckRecords& ack) {
    std::vector<std::uint64_t> result;
    for (const auto& record : ack.records)
      result.push_back(record.message.id.topic_offset);
    return result;
  };
  BOOST_REQUIRE_EQUAL(acks->size(), 1u);
  BOOST_REQUIRE_EQUAL(other_acks->size(), 1u);
  BOOST_TEST(offsets((*acks)[0]) == (std::vector<std::uint64_t>{10, 11, 12}),
             boost::test_tools::per_element());
  BOOST_TEST(offsets((*other_acks)[0]) == (std::vector<std::uint64_t>{20, 22}),
             boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(dead_letters->size(), 1u);
  BOOST_TEST(dead_letters->front().items.size() == 1u);
}

struct LingeringDispatcher : DispatcherFixture {
  LingeringDispatcher()
      : DispatcherFixture(dispatcher_config(
            {}, 10, 50ms, std::make_shared<danube::Backoff>(30ms, 10s, 2.0, false, 3))) {}
};

BOOST_FIXTURE_TEST_CASE(the_dispatcher_lingers_only_while_input_keeps_coming, LingeringDispatcher) {
  // More is said to be coming: the dispatcher waits (up to the linger time) for a fuller batch.
  caf::anon_send(dispatcher, RecordBatch{0, records(0, 3, 0), false});
  scheduler.run();
  BOOST_TEST(requests->empty());
  // A full batch goes at once.
  caf::anon_send(dispatcher, RecordBatch{0, records(0, 7, 3), false});
  scheduler.run();
  BOOST_REQUIRE_EQUAL(requests->size(), 1u);
  BOOST_TEST((*requests)[0].records.size() == 10u);
  // While the worker is busy nothing else goes; once its outcome is in, idle input goes at once.
  caf::anon_send(dispatcher, RecordBatch{0, records(0, 2, 10), true});
  scheduler.run();
  BOOST_TEST(requests->size() == 1u);
  caf::anon_send(dispatcher, outcome_of(0));
  scheduler.run();
  BOOST_TEST(acked() == 10u);
  BOOST_REQUIRE_EQUAL(requests->size(), 2u);
  BOOST_TEST((*requests)[1].records.size() == 2u);
  // A source waiting for a retry holds back its newer records, which follow the retry.
  caf::anon_send(dispatcher, outcome_of(1, {connect::ConnectorError::retryable("busy")}));
  caf::anon_send(dispatcher, RecordBatch{0, records(0, 1, 100), true});
  scheduler.run();
  BOOST_TEST(requests->size() == 2u);
  scheduler.advance_time(30ms);
  scheduler.run();
  BOOST_REQUIRE_EQUAL(requests->size(), 3u);
  BOOST_REQUIRE_EQUAL((*requests)[2].records.size(), 2u);
  BOOST_TEST((*requests)[2].records[0].message.id.topic_offset == 10u);  // the retry goes first
  BOOST_TEST((*requests)[2].records[1].message.id.topic_offset == 100u);
}

BOOST_FIXTURE_TEST_CASE(supervision_restarts_with_growing_backoff_then_gives_up, Coordinator) {
  connect::ConnectorConfig config;
  config.connector_name = "supervised";
  config.supervision.on_fatal = connect::OnFatal::restart;
  config.supervision.max_restarts = 2;
  config.supervision.restart_backoff_ms = 1000;
  config.supervision.max_restart_backoff_ms = 30000;
  auto context = test_context(config);
  auto restarts = std::make_shared<std::vector<caf::timespan>>();
  // A minimal supervisor around the real SupervisionState: it fails on demand and records
  // when the restart timer fires.
  auto start = std::make_shared<caf::timespan>();
  auto supervisor = keep(system.spawn(
      [=](RuntimeActor* self, ContextPtr context) -> caf::behavior {
        auto state = std::make_shared<SupervisionState>(context->config, "sink");
        return {
            [=](ConnectorFailed& failed) {
              const auto decision =
                  state->on_failure(*context, failed.error, failed.where, FailureOrigin::connector,
                                    self->clock().now());
              if (decision == SupervisionState::Decision::restart) {
                self->delayed_send(self, state->next_restart_delay(), restart_atom::value);
              } else if (decision == SupervisionState::Decision::stop) {
                state->finish(self, *context, failed.error, {});
              }
            },
            [=](restart_atom) {
              restarts->push_back(self->clock().now().time_since_epoch() - *start);
              state->set_starting(*context);
              state->set_running(*context);
            },
        };
      },
      context));
  auto& clock = dynamic_cast<caf::detail::test_actor_clock&>(system.clock());
  auto fail = [&] {
    *start = clock.now().time_since_epoch();
    caf::anon_send(supervisor, ConnectorFailed{connect::ConnectorError::fatal("boom"), "test"});
    scheduler.run();
  };
  // Restart n waits 1000 ms * 2^(n-1), scaled by a jitter factor in [0.5, 1.5).
  fail();
  scheduler.advance_time(499ms);
  scheduler.run();
  BOOST_TEST(restarts->empty());
  scheduler.advance_time(1001ms);
  scheduler.run();
  BOOST_REQUIRE_EQUAL(restarts->size(), 1u);
  BOOST_TEST(context->health->snapshot().started);

  fail();
  scheduler.advance_time(999ms);
  scheduler.run();
  BOOST_TEST(restarts->size() == 1u);
  scheduler.advance_time(2001ms);
  scheduler.run();
  BOOST_REQUIRE_EQUAL(restarts->size(), 2u);

  // The budget of two restarts is spent: the third failure stops the supervisor for good.
  fail();
  BOOST_TEST(context->health->snapshot().failed);
  scheduler.advance_time(60s);
  scheduler.run();
  BOOST_TEST(restarts->size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(the_restart_budget_counts_only_restarts_within_its_window, Coordinator) {
  connect::ConnectorConfig config;
  config.connector_name = "windowed";
  config.supervision.on_fatal = connect::OnFatal::restart;
  config.supervision.max_restarts = 2;
  config.supervision.restart_window_ms = 10'000;
  config.supervision.restart_backoff_ms = 100;
  config.supervision.max_restart_backoff_ms = 100;
  auto context = test_context(config);
  auto decisions = std::make_shared<std::vector<SupervisionState::Decision>>();
  auto supervisor = keep(system.spawn(
      [=](RuntimeActor* self, ContextPtr context) -> caf::behavior {
        auto state = std::make_shared<SupervisionState>(context->config, "sink");
        return {
            [=](ConnectorFailed& failed) {
              const auto decision =
                  state->on_failure(*context, failed.error, failed.where, FailureOrigin::connector,
                                    self->clock().now());
              decisions->push_back(decision);
              if (decision == SupervisionState::Decision::restart) {
                self->delayed_send(self, state->next_restart_delay(), restart_atom::value);
              }
            },
            [=](restart_atom) {
              state->set_starting(*context);
              state->set_running(*context);
            },
        };
      },
      context));
  auto fail_and_recover = [&] {
    caf::anon_send(supervisor, ConnectorFailed{connect::ConnectorError::fatal("boom"), "test"});
    scheduler.run();
    scheduler.advance_time(1s);  // past the restart delay: the pipeline runs again
    scheduler.run();
  };
  using Decision = SupervisionState::Decision;
  fail_and_recover();
  fail_and_recover();
  BOOST_REQUIRE_EQUAL(decisions->size(), 2u);
  BOOST_CHECK(decisions->back() == Decision::restart);
  // Both restarts are 2 s old: more than the window allows would stop; once they are older
  // than the window, a failure is restarted again.
  scheduler.advance_time(9s);
  scheduler.run();
  fail_and_recover();
  BOOST_CHECK(decisions->back() == Decision::restart);
  fail_and_recover();
  BOOST_CHECK(decisions->back() == Decision::restart);
  fail_and_recover();  // the third within 10 s
  BOOST_CHECK(decisions->back() == Decision::stop);
}

BOOST_FIXTURE_TEST_CASE(a_failure_while_a_restart_is_pending_is_not_counted_twice, Coordinator) {
  connect::ConnectorConfig config;
  config.connector_name = "pending";
  config.supervision.on_fatal = connect::OnFatal::restart;
  config.supervision.max_restarts = 5;
  auto context = test_context(config);
  SupervisionState state(context->config, "sink");
  const auto now = std::chrono::steady_clock::now();
  const auto error = connect::ConnectorError::fatal("boom");
  BOOST_CHECK(state.on_failure(*context, error, "a", FailureOrigin::connector, now) ==
              SupervisionState::Decision::restart);
  BOOST_CHECK(state.on_failure(*context, error, "b", FailureOrigin::connector, now) ==
              SupervisionState::Decision::ignore);
  // The restarted pipeline fails before it runs: that failure counts (it was dropped before).
  state.set_starting(*context);
  BOOST_CHECK(state.on_failure(*context, error, "c", FailureOrigin::connector, now) ==
              SupervisionState::Decision::restart);
  BOOST_TEST(state.status(*context).restarts == 2u);
  BOOST_TEST(state.status(*context).state == "restarting");
  // Configuration errors are never restarted, runtime failures are even with on_fatal = exit.
  state.set_starting(*context);
  BOOST_CHECK(state.on_failure(*context, connect::ConnectorError::configuration("bad key"), "d",
                               FailureOrigin::connector, now) == SupervisionState::Decision::stop);
  connect::ConnectorConfig exiting = config;
  exiting.supervision.on_fatal = connect::OnFatal::exit;
  SupervisionState strict(exiting, "sink");
  BOOST_CHECK(strict.on_failure(*context, error, "e", FailureOrigin::runtime, now) ==
              SupervisionState::Decision::restart);
  strict.set_starting(*context);
  BOOST_CHECK(strict.on_failure(*context, error, "f", FailureOrigin::connector, now) ==
              SupervisionState::Decision::stop);
}

BOOST_AUTO_TEST_SUITE(publish_pacer)

// Outstanding records throughout; `per_step` settle every 10 ms of busy time.
void publish_steadily(PublishPacer& pacer, PublishPacer::Clock::time_point& now, int steps,
                      std::size_t per_step) {
  for (int i = 0; i < steps; ++i) {
    pacer.observe(100, now);
    pacer.settled(per_step);
    now += 10ms;
  }
  pacer.observe(100, now);
}

BOOST_AUTO_TEST_CASE(the_limit_starts_at_the_floor_and_follows_the_publish_rate) {
  PublishPacer pacer(200, 10'000, 1s);
  BOOST_TEST(pacer.limit() == 200u);
  auto now = PublishPacer::Clock::time_point{} + 1h;
  publish_steadily(pacer, now, 100, 20);  // 2 000 records/s for one second
  BOOST_TEST(pacer.records_per_second() == 2000.0, boost::test_tools::tolerance(0.01));
  BOOST_TEST(pacer.limit() == 2000u);  // what one second (the drain window) publishes
}

BOOST_AUTO_TEST_CASE(a_faster_broker_raises_the_limit_up_to_the_ceiling) {
  PublishPacer pacer(200, 10'000, 1s);
  auto now = PublishPacer::Clock::time_point{} + 1h;
  publish_steadily(pacer, now, 100, 20);
  publish_steadily(pacer, now, 500, 500);  // 50 000 records/s
  BOOST_TEST(pacer.limit() == 10'000u);
}

BOOST_AUTO_TEST_CASE(a_slower_broker_lowers_the_limit_but_never_below_the_floor) {
  PublishPacer pacer(200, 10'000, 1s);
  auto now = PublishPacer::Clock::time_point{} + 1h;
  publish_steadily(pacer, now, 100, 50);  // 5 000 records/s
  BOOST_TEST(pacer.limit() == 5000u);
  publish_steadily(pacer, now, 1000, 1);  // 100 records/s for ten seconds
  BOOST_TEST(pacer.limit() == 200u);
}

BOOST_AUTO_TEST_CASE(idle_time_does_not_count_as_a_slow_broker) {
  PublishPacer pacer(200, 10'000, 1s);
  auto now = PublishPacer::Clock::time_point{} + 1h;
  publish_steadily(pacer, now, 100, 20);
  BOOST_TEST(pacer.limit() == 2000u);
  for (int burst = 0; burst < 10; ++burst) {
    pacer.observe(0, now);  // nothing outstanding: the source had nothing to send
    now += 5s;
    publish_steadily(pacer, now, 10, 20);  // then 100 ms of work at 2 000 records/s
  }
  BOOST_TEST(pacer.records_per_second() == 2000.0, boost::test_tools::tolerance(0.01));
  BOOST_TEST(pacer.limit() == 2000u);
}

BOOST_AUTO_TEST_CASE(the_configured_pacer_drains_in_a_third_of_the_shutdown_budget) {
  PublishPacer pacer = publish_pacer_for(100, 10'000, 3s);
  BOOST_TEST(pacer.limit() == 200u);  // twice the batch size
  auto now = PublishPacer::Clock::time_point{} + 1h;
  publish_steadily(pacer, now, 100, 30);  // 3 000 records/s
  BOOST_TEST(pacer.limit() == 3000u);     // one second of publishing
}

BOOST_AUTO_TEST_SUITE_END()
