// Deterministic tests of the runtime's timing and supervision logic on CAF's test coordinator:
// no threads run unless the test says so, and time only moves when the test advances it, so
// backoff delays are checked exactly without sleeping.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "common/messages.hpp"
#include "common/runtime_context.hpp"
#include "common/supervision.hpp"
#include "danube/runtime/embedding.hpp"
#include "sink/batcher_actor.hpp"
#include "sink/retry_supervisor_actor.hpp"
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

// Everything a fake actor received, in order.
struct Inbox {
  std::vector<caf::message> messages;
  template <class T>
  std::vector<T> all() const {
    std::vector<T> found;
    for (const auto& message : messages) {
      if (message.match_elements<T>()) found.push_back(message.get_as<T>(0));
    }
    return found;
  }
};

caf::actor spawn_recorder(caf::actor_system& system, std::shared_ptr<Inbox> inbox) {
  return system.spawn(
      [](caf::event_based_actor* self, std::shared_ptr<Inbox> inbox) -> caf::behavior {
        self->set_default_handler(
            [inbox](caf::scheduled_actor*, caf::message_view& view) -> caf::result<caf::message> {
              inbox->messages.push_back(view.move_content_to_message());
              return caf::message{};
            });
        return {[](caf::unit_t) {}};
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

InflightRecord record(std::size_t source, std::uint64_t offset, caf::actor owner) {
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
    for (const auto& actor : actors)
      caf::anon_send_exit(actor, caf::exit_reason::kill);
    scheduler.run();
  }
  caf::actor keep(caf::actor actor) {
    actors.push_back(actor);
    return actor;
  }
  caf::actor_system system{testing_config()};
  caf::scheduler::test_coordinator& scheduler =
      dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  std::vector<caf::actor> actors;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_retryable_record_is_requeued_exactly_after_its_backoff, Coordinator) {
  connect::ConnectorConfig config;
  config.connector_name = "unit";
  config.retry.max_retries = 2;
  auto context = test_context(config);
  auto batcher_inbox = std::make_shared<Inbox>();
  auto consumer_inbox = std::make_shared<Inbox>();
  auto dead_letter_inbox = std::make_shared<Inbox>();
  auto batcher = keep(spawn_recorder(system, batcher_inbox));
  auto consumer = keep(spawn_recorder(system, consumer_inbox));
  RetrySupervisorConfig retry;
  retry.context = context;
  // No jitter: 100 ms, then 200 ms.
  retry.backoff = std::make_shared<danube::Backoff>(100ms, 10s, 2.0, false, 2);
  retry.dead_letter_router = keep(spawn_recorder(system, dead_letter_inbox));
  retry.supervisor = keep(spawn_recorder(system, std::make_shared<Inbox>()));
  auto supervisor = keep(spawn_retry_supervisor(system, retry));
  scheduler.run();

  auto outcome_with = [&](std::vector<InflightRecord> records,
                          std::vector<std::optional<connect::ConnectorError>> errors) {
    ProcessOutcome outcome;
    outcome.batcher = batcher;
    outcome.records = std::move(records);
    outcome.errors = std::move(errors);
    outcome.deferred.assign(outcome.records.size(), false);
    return outcome;
  };
  // Record 0 fails retryably, record 1 of the same source is fine, record 2 of another source too.
  caf::anon_send(
      supervisor,
      outcome_with({record(0, 10, consumer), record(0, 11, consumer), record(1, 20, consumer)},
                   {connect::ConnectorError::retryable("busy"), std::nullopt, std::nullopt}));
  scheduler.run();
  const auto settled = batcher_inbox->all<BatchSettled>();
  BOOST_REQUIRE_EQUAL(settled.size(), 1u);
  BOOST_TEST(settled[0].blocked_sources == std::vector<std::size_t>{0});
  BOOST_REQUIRE_EQUAL(consumer_inbox->all<AckRecords>().size(), 1u);
  BOOST_TEST(consumer_inbox->all<AckRecords>()[0].records.size() == 2u);

  scheduler.advance_time(99ms);
  scheduler.run();
  BOOST_TEST(batcher_inbox->all<Requeue>().empty());
  scheduler.advance_time(1ms);
  scheduler.run();
  auto requeued = batcher_inbox->all<Requeue>();
  BOOST_REQUIRE_EQUAL(requeued.size(), 1u);
  BOOST_TEST(requeued[0].source == 0u);
  BOOST_REQUIRE_EQUAL(requeued[0].records.size(), 1u);
  BOOST_TEST(requeued[0].records[0].attempts == 1u);

  // Second failure: 200 ms.
  caf::anon_send(supervisor, outcome_with(std::move(requeued[0].records),
                                          {connect::ConnectorError::retryable("busy")}));
  scheduler.run();
  scheduler.advance_time(199ms);
  scheduler.run();
  BOOST_TEST(batcher_inbox->all<Requeue>().size() == 1u);
  scheduler.advance_time(1ms);
  scheduler.run();
  requeued = batcher_inbox->all<Requeue>();
  BOOST_REQUIRE_EQUAL(requeued.size(), 2u);

  // Third failure: retries are exhausted, the record goes to the dead-letter router.
  caf::anon_send(supervisor, outcome_with(std::move(requeued[1].records),
                                          {connect::ConnectorError::retryable("busy")}));
  scheduler.run();
  const auto dead = dead_letter_inbox->all<DeadLetterRequest>();
  BOOST_REQUIRE_EQUAL(dead.size(), 1u);
  BOOST_REQUIRE_EQUAL(dead[0].items.size(), 1u);
  BOOST_TEST(dead[0].items[0].message.attributes.at("dlq.attempts") == "3");
  BOOST_TEST(dead[0].items[0].message.attributes.at("dlq.error_kind") == "retryable");
  scheduler.advance_time(10s);
  scheduler.run();
  BOOST_TEST(batcher_inbox->all<Requeue>().size() == 2u);  // no further retry
}

BOOST_FIXTURE_TEST_CASE(the_batcher_lingers_only_while_input_keeps_coming, Coordinator) {
  auto worker_inbox = std::make_shared<Inbox>();
  BatcherConfig config;
  config.batch_size = 10;
  config.linger = 50ms;
  config.worker = keep(spawn_recorder(system, worker_inbox));
  config.retry_supervisor = keep(spawn_recorder(system, std::make_shared<Inbox>()));
  auto batcher = keep(spawn_batcher(system, config));
  auto owner = keep(spawn_recorder(system, std::make_shared<Inbox>()));
  scheduler.run();

  auto records = [&](std::size_t source, int count, int first) {
    std::vector<InflightRecord> result;
    for (int i = 0; i < count; ++i) {
      auto r = record(source, first + i, owner);
      r.received_at = Clock::now();
      result.push_back(std::move(r));
    }
    return result;
  };
  // More is said to be coming: the batcher waits (up to the linger time) for a fuller batch.
  caf::anon_send(batcher, RecordBatch{0, records(0, 3, 0), false});
  scheduler.run();
  BOOST_TEST(worker_inbox->all<ProcessRequest>().empty());
  // A full batch goes at once.
  caf::anon_send(batcher, RecordBatch{0, records(0, 7, 3), false});
  scheduler.run();
  auto requests = worker_inbox->all<ProcessRequest>();
  BOOST_REQUIRE_EQUAL(requests.size(), 1u);
  BOOST_TEST(requests[0].records.size() == 10u);
  // While the worker is busy nothing else goes; once settled, idle input flushes at once.
  caf::anon_send(batcher, RecordBatch{0, records(0, 2, 10), true});
  scheduler.run();
  BOOST_TEST(worker_inbox->all<ProcessRequest>().size() == 1u);
  caf::anon_send(batcher, BatchSettled{});
  scheduler.run();
  requests = worker_inbox->all<ProcessRequest>();
  BOOST_REQUIRE_EQUAL(requests.size(), 2u);
  BOOST_TEST(requests[1].records.size() == 2u);
  // A held-back source waits for its requeue even when its records are due.
  caf::anon_send(batcher, BatchSettled{{1}});
  caf::anon_send(batcher, RecordBatch{1, records(1, 1, 100), true});
  scheduler.run();
  BOOST_TEST(worker_inbox->all<ProcessRequest>().size() == 2u);
  caf::anon_send(batcher, Requeue{1, records(1, 1, 99)});
  scheduler.run();
  requests = worker_inbox->all<ProcessRequest>();
  BOOST_REQUIRE_EQUAL(requests.size(), 3u);
  BOOST_REQUIRE_EQUAL(requests[2].records.size(), 2u);
  BOOST_TEST(requests[2].records[0].message.id.topic_offset == 99u);  // the retry goes first
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
