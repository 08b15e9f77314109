// Fuzz target: Danube topic names (parse_topic_name and the partition helpers).
//
// Input: a candidate name. Properties: a parsed name has both segments and spells the input
// back; partition names round-trip through partition_index and base_topic_name.
#include <cstddef>
#include <cstdint>
#include <string>

#include "danube/common/topic_name.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using danube::fuzz::require;
  const auto name = danube::fuzz::as_text(data, size);
  std::string why;
  const auto parsed = danube::parse_topic_name(name, &why);
  require(parsed.has_value() == why.empty(), "topic: a reason exactly when invalid");
  require(parsed.has_value() == danube::is_valid_topic_name(name), "topic: one verdict");
  (void)danube::partition_index(name);
  (void)danube::base_topic_name(name);
  if (!parsed) return 0;

  require(!parsed->namespace_name.empty() && !parsed->topic.empty(), "topic: two segments");
  require("/" + parsed->namespace_name + "/" + parsed->topic == name, "topic: spelled back");
  const std::size_t partition = size % 1000;
  const std::string partitioned = danube::partition_topic_name(name, partition);
  require(danube::is_valid_topic_name(partitioned), "topic: a partition name is valid");
  require(danube::partition_index(partitioned) == partition, "topic: partition index");
  require(danube::base_topic_name(partitioned) == name, "topic: base of a partition");
  return 0;
}
