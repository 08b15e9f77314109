// danube-embedded-broker: runs the embedded broker as a process for demos, scripts and
// benchmarks. Exit codes: 0 after a signal-driven stop, 1 when the broker cannot start, 2 on a bad
// command line.

#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

#include "broker_cli.hpp"
#include "danube/testkit/embedded_broker.hpp"

int main(int argc, char** argv) {
  using danube::testkit::BrokerCommandLine;
  const auto command_line =
      danube::testkit::parse_broker_command_line(std::vector<std::string>(argv + 1, argv + argc));
  switch (command_line.action) {
    case BrokerCommandLine::Action::show_help:
      std::cout << danube::testkit::broker_usage();
      return 0;
    case BrokerCommandLine::Action::fail:
      std::cerr << "danube-embedded-broker: " << command_line.error
                << "\nRun danube-embedded-broker --help for the flags.\n";
      return 2;
    case BrokerCommandLine::Action::run:
      break;
  }

  // stdout carries only the readiness line scripts wait for; logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("danube-embedded-broker"));
  spdlog::set_level(spdlog::level::from_str(command_line.log_level));

  // Block the stop signals before any thread exists, so that every gRPC and timer thread
  // inherits the mask and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  danube::testkit::EmbeddedBroker broker(command_line.options);
  try {
    broker.start();
  } catch (const std::exception& error) {
    std::cerr << "danube-embedded-broker: " << error.what() << "\n";
    return 1;
  }
  for (const auto& topic : command_line.topics) {
    try {
      broker.create_topic(topic.name, topic.reliable, topic.partitions);
    } catch (const std::exception& error) {
      std::cerr << "danube-embedded-broker: --topic " << topic.name << ": " << error.what() << "\n";
      broker.stop();
      return 2;
    }
  }
  // Printed only once the topics exist: scripts start consumers as soon as they see it.
  std::cout << "danube-embedded-broker listening on " << broker.address() << std::endl;

  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("event=signal_received signal={}", received == SIGINT ? "SIGINT" : "SIGTERM");
  broker.stop();
  return 0;
}
