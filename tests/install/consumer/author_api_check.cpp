// author_api_check: a program that links only danube_connect::connect (the author API, no
// runtime): it reads a connector's TOML table the way initialize() would, logs through the test
// logger, and checks what it got. Exit code 0 when everything matched.
#include <cstdio>
#include <string>

#include "danube/connect/connect.hpp"
#include "danube/connect/testing.hpp"

int main() {
  using namespace danube::connect;
  const auto table = ConfigSection::parse(
      "topic = \"/default/orders\"\nbatch = 25\nmode = \"upsert\"\n", "author_api_check");
  table.reject_unknown_keys({"topic", "batch", "mode"});
  const std::string topic = table.get_topic("topic", "/default/none");
  const auto batch = table.get_integer("batch", 1, 1, 1000);
  const std::string mode = table.get_string("mode", "insert");

  testing::RecordingLogger logger;
  logger.info("settings_read", {{"topic", topic}, {"batch", batch}, {"mode", mode}});
  const auto lines = logger.lines();

  bool rejected = false;
  try {
    (void)ConfigSection::parse("batch = 0\n", "author_api_check").get_integer("batch", 1, 1, 10);
  } catch (const ConfigError&) {
    rejected = true;
  }

  const bool ok = topic == "/default/orders" && batch == 25 && mode == "upsert" &&
                  lines.size() == 1 && lines[0].text.find("batch=25") != std::string::npos &&
                  rejected && !VERSION.empty();
  std::printf("author_api_check sdk=%s version=%s log=\"%s\" %s\n", std::string(NAME).c_str(),
              std::string(VERSION).c_str(), lines.empty() ? "" : lines[0].text.c_str(),
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
