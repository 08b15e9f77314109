#pragma once

// The command line the run helpers give every connector binary: --help, --version, --config,
// --check-config and --print-config (see danube/runtime/run.hpp).
#include <filesystem>
#include <optional>

#include "danube/connect/config.hpp"
#include "danube/runtime/run.hpp"

namespace danube::runtime {

struct CommandLine {
  enum class Action { run, check_config, print_config, exit };
  Action action = Action::run;
  std::optional<std::filesystem::path> config_file;  // --config
  int exit_code = kExitClean;  // Action::exit: --help, --version, a bad option
};

// Parses main's arguments; prints --help and --version output and argument errors itself (the
// action is then `exit`).
CommandLine parse_command_line(int argc, char** argv);

// --check-config and --print-config on a loaded configuration: applies adjust_config, validates,
// runs check_config, and prints the outcome (stdout) or the problem (stderr). Returns the exit
// code: kExitClean or kExitConfigError.
int report_config(const CommandLine& command, const RunOptions& options,
                  connect::ConnectorConfig config);

}  // namespace danube::runtime
