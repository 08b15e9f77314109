// Fuzz target: the connector configuration loader (TOML file, environment overrides,
// validation) and the typed accessors of a connector's own sections.
//
// Input: TOML text, optionally followed by a NUL byte and up to eight environment variables,
// one NAME=VALUE a line (DANUBE_CONNECT__RETRY__MAX_RETRIES=5, CONNECTOR_NAME=x, ...). They
// reach the loader through an Environment, never through the process environment.
//
// Expected outcomes: a ConnectorConfig, or a ConfigError. Any other exception escapes and
// libFuzzer reports it as a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "danube/connect/config_error.hpp"
#include "danube/connect/config_loader.hpp"
#include "danube/connect/config_section.hpp"
#include "fuzz_support.hpp"

namespace {

using danube::connect::ConfigError;
using danube::connect::ConfigLoader;
using danube::connect::ConfigSection;
using danube::connect::Environment;

constexpr int kMaxVariables = 8;

Environment environment_from(std::string_view text) {
  Environment environment;
  int count = 0;
  while (!text.empty() && count < kMaxVariables) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    environment.set(std::string(line.substr(0, equals)), std::string(line.substr(equals + 1)));
    ++count;
  }
  return environment;
}

// Reads every key of `section` the ways a connector could, down to nested tables. The depth is
// bounded by the loader's own nesting limit.
void read_everything(const ConfigSection& section) {
  for (const auto& key : section.keys()) {
    const auto attempt = [](auto&& read) {
      try {
        read();
      } catch (const ConfigError&) {
      }
    };
    attempt([&] { (void)section.get_string(key); });
    attempt([&] { (void)section.get_integer(key, 0, -1000, 1000); });
    attempt([&] { (void)section.get_bool(key); });
    attempt([&] { (void)section.get_float(key); });
    attempt([&] { (void)section.get_string_array(key); });
    attempt([&] { (void)section.location(key); });
    attempt([&] {
      if (const auto nested = section.get_section(key)) read_everything(*nested);
    });
    attempt([&] {
      for (const auto& entry : section.get_sections(key))
        read_everything(entry);
    });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [toml, variables] = danube::fuzz::split_at_nul(danube::fuzz::as_text(data, size));

  ConfigLoader loader;
  loader.environment(environment_from(variables)).allow_section("mqtt");
  try {
    const auto config = loader.load_string(toml, "fuzz.toml");
    (void)config.describe();
    (void)config.dead_letter_topic();
    read_everything(config.custom_sections);
  } catch (const ConfigError&) {
  }

  try {
    read_everything(ConfigSection::parse(toml, "fuzz.toml"));
  } catch (const ConfigError&) {
  }
  return 0;
}
