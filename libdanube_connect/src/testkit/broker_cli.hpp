#pragma once

#include <string>
#include <vector>

#include "danube/testkit/embedded_broker.hpp"

namespace danube::testkit {

// A topic to create at start-up: --topic NAME[:partitions=N][:reliable|:non-reliable].
struct TopicToCreate {
  std::string name;
  bool reliable = true;  // the SDK's producers default to reliable dispatch
  std::size_t partitions = 0;
};

// Command line of danube-embedded-broker, kept apart from main() so it can be tested.
struct BrokerCommandLine {
  enum class Action { run, show_help, fail };
  Action action = Action::run;
  BrokerOptions options;
  std::vector<TopicToCreate> topics;
  std::string log_level = "info";
  std::string error;  // for Action::fail: one line that names the bad flag
};

// `args` excludes the program name. Defaults differ from BrokerOptions in one place: the
// executable listens on 127.0.0.1:6650 (Danube's client port) unless --listen says otherwise.
BrokerCommandLine parse_broker_command_line(const std::vector<std::string>& args);

std::string broker_usage();

}  // namespace danube::testkit
