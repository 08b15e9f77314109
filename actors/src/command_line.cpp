#include "command_line.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "danube/connect/config_report.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/version.hpp"

namespace danube::runtime {

CommandLine parse_command_line(int argc, char** argv) {
  const std::string program =
      argc > 0 ? std::filesystem::path(argv[0]).filename().string() : std::string("connector");
  CLI::App app{"A Danube connector (" + std::string(connect::NAME) + " " +
                   std::string(connect::VERSION) +
                   "). Without options it runs with the configuration file named by "
                   "CONNECTOR_CONFIG_PATH (or the environment alone).",
               program};
  CommandLine command;
  std::string config_file;
  bool check = false;
  bool print = false;
  bool version = false;
  app.add_option("--config", config_file,
                 "the configuration file (instead of CONNECTOR_CONFIG_PATH)");
  app.add_flag("--check-config", check,
               "load and validate the configuration, connecting to nothing; exit 0 or 2");
  app.add_flag("--print-config", print,
               "print the effective settings with where each came from (secrets masked)");
  app.add_flag("--version", version, "print the version");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help is a "parse error" that exits 0; anything else is a usage error.
    const int code = app.exit(error);
    command.action = CommandLine::Action::exit;
    command.exit_code = code == 0 ? kExitClean : kExitConfigError;
    return command;
  }
  if (version) {
    std::cout << program << " " << connect::NAME << " " << connect::VERSION << std::endl;
    command.action = CommandLine::Action::exit;
    return command;
  }
  if (!config_file.empty()) command.config_file = config_file;
  if (check) command.action = CommandLine::Action::check_config;
  if (print) command.action = CommandLine::Action::print_config;
  return command;
}

int report_config(const CommandLine& command, const RunOptions& options,
                  connect::ConnectorConfig config) {
  try {
    if (options.adjust_config) options.adjust_config(config);
    config.validate();
    config.resolve_admin_token();  // the variable or file it names must hold a token
    if (options.check_config) options.check_config(config);
  } catch (const connect::ConnectorError& error) {
    std::cerr << error.what() << std::endl;
    return kExitConfigError;
  }
  if (command.action == CommandLine::Action::print_config) {
    for (const auto& setting : connect::effective_settings(config))
      std::cout << setting.key << " = " << setting.value << "  # " << setting.source << "\n";
    for (const auto& notice : config.ignored_keys)
      std::cout << "# ignored: " << notice << "\n";
    std::cout << std::flush;
    return kExitClean;
  }
  std::cout << "config ok: " << config.connector_name << std::endl;
  for (const auto& notice : config.ignored_keys)
    std::cout << "warning: " << notice << std::endl;
  return kExitClean;
}

}  // namespace danube::runtime
