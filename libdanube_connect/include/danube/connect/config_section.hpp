#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danube::connect {

class ConfigDocument;

// The deepest nesting of tables and arrays accepted in TOML configuration (files, and
// ConfigSection::parse); deeper is a ConfigError naming the limit and the line ("TOML nesting
// deeper than 128 levels"). Each segment of a dotted key, each array and each inline table is a
// level; a segment of a [table] or [[array]] header counts two, since it may stand for an array
// of tables and its last element. toml++ limits nested arrays and inline tables (to 256) but
// not headers or dotted keys, and `a.a.a...` a few hundred kilobytes long overflows its stack.
inline constexpr std::size_t kMaxTomlNestingDepth = 128;

// A connector's own configuration table (`[mqtt]`, `[[mqtt.routes]]`), with typed accessors.
//
// Every accessor failure, and every `fail()` call, throws ConfigError naming the file, the
// line and the key, like the SDK's own validation:
//   config error: /etc/c.toml:7: [mqtt] broker_port: expected an integer (got string "x")
//
// Values set through environment overrides (`DANUBE_CONNECT__MQTT__BROKER_PORT=1884`) arrive as
// text and are parsed by the type the accessor asks for; their errors name the variable.
//
// A section is an immutable view sharing the parsed document; copy it freely.
class ConfigSection {
 public:
  // An empty section (no keys).
  ConfigSection();
  ~ConfigSection();
  ConfigSection(const ConfigSection&);
  ConfigSection& operator=(const ConfigSection&);
  ConfigSection(ConfigSection&&) noexcept;
  ConfigSection& operator=(ConfigSection&&) noexcept;

  // Parses TOML text as a section, e.g. for tests of a connector's initialize(). Throws
  // ConfigError on a syntax error and on nesting deeper than kMaxTomlNestingDepth.
  static ConfigSection parse(std::string_view toml_text, std::string source_name = "inline");

  // "mqtt", "mqtt.routes[1]"; empty for the root of a document.
  const std::string& path() const { return path_; }
  bool empty() const;
  bool contains(std::string_view key) const;
  // Sorted.
  std::vector<std::string> keys() const;

  std::optional<std::string> get_string(std::string_view key) const;
  std::string get_string(std::string_view key, std::string fallback) const;
  std::string require_string(std::string_view key) const;

  std::optional<std::int64_t> get_integer(std::string_view key) const;
  std::int64_t get_integer(std::string_view key, std::int64_t fallback) const;
  std::int64_t require_integer(std::string_view key) const;
  // The same, with the value checked to be within [min, max].
  std::int64_t get_integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                           std::int64_t max) const;
  std::int64_t require_integer(std::string_view key, std::int64_t min, std::int64_t max) const;

  // A Danube topic name ("/default/orders"; see danube/common/topic_name.hpp), checked here so
  // that a bad one is reported with its file, line and key, not later by the runtime, which
  // no longer knows where the name came from.
  std::optional<std::string> get_topic(std::string_view key) const;
  std::string get_topic(std::string_view key, std::string fallback) const;
  std::string require_topic(std::string_view key) const;

  std::optional<bool> get_bool(std::string_view key) const;
  bool get_bool(std::string_view key, bool fallback) const;
  bool require_bool(std::string_view key) const;

  // Integers are accepted too.
  std::optional<double> get_float(std::string_view key) const;
  double get_float(std::string_view key, double fallback) const;
  double require_float(std::string_view key) const;

  // An array of strings; from an environment variable, a comma-separated list.
  std::optional<std::vector<std::string>> get_string_array(std::string_view key) const;
  std::vector<std::string> require_string_array(std::string_view key) const;

  // A sub-table (`[mqtt.tls]` or `tls = { ... }`).
  std::optional<ConfigSection> get_section(std::string_view key) const;
  ConfigSection require_section(std::string_view key) const;
  // An array of tables (`[[mqtt.routes]]`); empty when the key is absent.
  std::vector<ConfigSection> get_sections(std::string_view key) const;
  // The same, but at least one entry is required.
  std::vector<ConfigSection> require_sections(std::string_view key) const;

  // Throws ConfigError for the first key not in `known` ("unknown key 'x' (known keys: ...)").
  void reject_unknown_keys(std::initializer_list<std::string_view> known) const;
  void reject_unknown_keys(const std::vector<std::string>& known) const;

  // Throws ConfigError about `key` (which need not exist) with the given problem text, for a
  // connector's own validation: `section.fail("qos", "must be 0, 1 or 2 (got 5)")`.
  [[noreturn]] void fail(std::string_view key, std::string problem) const;
  // Where `key` was set ("/etc/c.toml:7", "DANUBE_CONNECT__MQTT__PORT"), or where this section
  // starts when the key is absent; may be empty for programmatic sections.
  std::string location(std::string_view key) const;
  // How `key` is shown in messages: "[mqtt] broker_port".
  std::string display_key(std::string_view key) const;

 private:
  friend class ConfigDocument;
  friend struct ConfigSectionAccess;
  ConfigSection(std::shared_ptr<const ConfigDocument> document, const void* table,
                std::string path);

  std::shared_ptr<const ConfigDocument> document_;
  const void* table_ = nullptr;  // a toml::table inside document_, or nullptr
  std::string path_;
};

}  // namespace danube::connect
