#include "danube/connect/config_section.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "config_document.hpp"
#include "danube/common/topic_name.hpp"
#include "danube/connect/config_error.hpp"

namespace danube::connect {

std::string ConfigDocument::location(const toml::source_region& region) const {
  if (region.begin.line == 0) return source_name;
  return source_name + ":" + std::to_string(region.begin.line);
}

namespace {

// The line (from 1) where the nesting of `text` first exceeds kMaxTomlNestingDepth, or 0.
//
// A scan, not a parse: it counts levels as kMaxTomlNestingDepth describes, skips strings and
// comments as TOML does, and validates nothing else. It never counts less than toml++ nests:
// every '.' outside strings counts (so a float adds one to the rest of its value), and a line
// starts from the depth of its table only once all its arrays and inline tables are closed.
std::size_t line_nested_too_deep(std::string_view text) {
  enum class Quote { none, basic, literal, multiline_basic, multiline_literal };
  const auto run_of = [text](std::size_t at, char quote) {
    std::size_t length = 0;
    while (at + length < text.size() && text[at + length] == quote)
      ++length;
    return length;
  };
  const auto escapes_next = [text](std::size_t at) {
    // A backslash before a newline continues a multi-line string; the newline still counts.
    return text[at] == '\\' && at + 1 < text.size() && text[at + 1] != '\n';
  };
  Quote quote = Quote::none;
  bool comment = false;
  bool line_start = true;         // nothing but whitespace yet on this line, no bracket open
  bool header = false;            // inside a [table] or [[array]] header
  std::size_t table_depth = 0;    // levels of the table the last header named
  std::size_t depth = 0;          // levels at this point
  std::vector<std::size_t> open;  // `depth` before each open array and inline table
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      comment = false;
      // Single-line strings cannot span lines; ending them keeps a stray quote local.
      if (quote == Quote::basic || quote == Quote::literal) quote = Quote::none;
      if (quote == Quote::none && open.empty()) {
        header = false;
        depth = table_depth;
        line_start = true;
      }
      continue;
    }
    if (comment) continue;
    switch (quote) {
      case Quote::basic:
        if (escapes_next(i)) {
          ++i;
        } else if (c == '"') {
          quote = Quote::none;
        }
        continue;
      case Quote::literal:
        if (c == '\'') quote = Quote::none;
        continue;
      case Quote::multiline_basic:
      case Quote::multiline_literal: {
        const char closing = quote == Quote::multiline_basic ? '"' : '\'';
        if (quote == Quote::multiline_basic && escapes_next(i)) {
          ++i;
        } else if (c == closing) {
          // Up to two quotes before the closing three belong to the string.
          const std::size_t run = run_of(i, closing);
          if (run >= 3) quote = Quote::none;
          i += run - 1;
        }
        continue;
      }
      case Quote::none:
        break;
    }
    if (c == ' ' || c == '\t' || c == '\r') continue;
    const bool first_on_line = line_start;
    line_start = false;
    switch (c) {
      case '#':
        comment = true;
        break;
      case '"':
      case '\'':
        if (run_of(i, c) >= 3) {
          quote = c == '"' ? Quote::multiline_basic : Quote::multiline_literal;
          i += 2;
        } else {
          quote = c == '"' ? Quote::basic : Quote::literal;
        }
        break;
      case '[':
        if (first_on_line) {
          header = true;
          if (i + 1 < text.size() && text[i + 1] == '[') ++i;
          table_depth = 2;
          depth = table_depth;
        } else if (!header) {
          open.push_back(depth);
          ++depth;
        }
        break;
      case '{':
        if (!header) {
          open.push_back(depth);
          ++depth;
        }
        break;
      case ']':
      case '}':
        if (header) {
          header = false;
          if (c == ']' && i + 1 < text.size() && text[i + 1] == ']') ++i;
        } else if (!open.empty()) {
          depth = open.back();
          open.pop_back();
        }
        break;
      case ',':
        if (!open.empty()) depth = open.back() + 1;
        break;
      case '.':
        if (header) {
          table_depth += 2;
          depth = table_depth;
        } else {
          ++depth;
        }
        break;
      default:
        break;
    }
    if (depth > kMaxTomlNestingDepth) return line;
  }
  return 0;
}

std::string_view trim_blanks(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= text.size();) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return lines;
}

// The key a parse error on `line` (1-based) belongs to, shown as the loader shows keys
// ("[processing] batch_size"), when the line is a `key = value` line: toml++ names the line
// of a bad value (an integer that overflows, a malformed date) but not its key. A best effort
// on the raw text: a line inside a multi-line string may be taken for a key line.
std::string key_at_line(std::string_view text, std::size_t line) {
  const auto lines = split_lines(text);
  if (line == 0 || line > lines.size()) return {};
  const std::string_view source = trim_blanks(lines[line - 1]);
  const auto equals = source.find('=');
  if (equals == std::string_view::npos || source.empty() || source.front() == '[' ||
      source.front() == '#') {
    return {};
  }
  const std::string key(trim_blanks(source.substr(0, equals)));
  if (key.empty()) return {};
  const auto table_name = [](std::string_view header, bool array) -> std::optional<std::string> {
    const auto close = header.find(array ? "]]" : "]");
    if (close == std::string_view::npos) return std::nullopt;
    return std::string(trim_blanks(header.substr(array ? 2 : 1, close - (array ? 2 : 1))));
  };
  for (std::size_t i = line - 1; i-- > 0;) {
    const std::string_view header = trim_blanks(lines[i]);
    if (header.empty() || header.front() != '[') continue;
    const bool array = header.starts_with("[[");
    const auto name = table_name(header, array);
    if (!name) return key;
    if (!array) return "[" + *name + "] " + key;
    // Array elements are shown with their index, as the accessors show them.
    std::size_t index = 0;
    for (std::size_t j = 0; j < i; ++j) {
      const std::string_view other = trim_blanks(lines[j]);
      if (other.starts_with("[[") && table_name(other, true) == name) ++index;
    }
    return "[[" + *name + "]][" + std::to_string(index) + "] " + key;
  }
  return key;
}

}  // namespace

toml::table parse_toml(std::string_view toml_text, const ConfigDocument& document) {
  if (const std::size_t line = line_nested_too_deep(toml_text)) {
    throw ConfigError(
        document.source_name + ":" + std::to_string(line), "",
        "TOML nesting deeper than " + std::to_string(kMaxTomlNestingDepth) + " levels");
  }
  try {
    return toml::parse(toml_text, document.source_name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(document.location(e.source()), key_at_line(toml_text, e.source().begin.line),
                      std::string(e.description()));
  }
}

std::string quote_excerpt(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (text.size() > kMax) out += "...";
  return out + "\"";
}

std::string describe_node(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string " + quote_excerpt(*node.value<std::string>());
    case toml::node_type::integer:
      return "integer " + std::to_string(*node.value<std::int64_t>());
    case toml::node_type::floating_point: {
      std::ostringstream out;
      out << "float " << *node.value<double>();
      return out.str();
    }
    case toml::node_type::boolean:
      return *node.value<bool>() ? "boolean true" : "boolean false";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      return "nothing";
  }
  return "an unknown value";
}

std::string display_key(std::string_view section_path, std::string_view key) {
  if (section_path.empty()) return std::string(key);
  std::string section(section_path);
  // "mqtt.routes[1]" is shown as "[[mqtt.routes]][1]". A ']' without '[' comes from an
  // environment variable (DANUBE_CONNECT__MQTT]__PORT) and is shown as given.
  const auto open = section.rfind('[');
  if (section.back() == ']' && open != std::string::npos) {
    const std::string base = section.substr(0, open);
    const std::string index = section.substr(open);
    return "[[" + base + "]]" + index + (key.empty() ? "" : " " + std::string(key));
  }
  return "[" + section + "]" + (key.empty() ? "" : " " + std::string(key));
}

namespace {

const toml::table* as_table(const void* table) {
  return static_cast<const toml::table*>(table);
}

std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

}  // namespace

ConfigSection::ConfigSection() = default;
ConfigSection::~ConfigSection() = default;
ConfigSection::ConfigSection(const ConfigSection&) = default;
ConfigSection& ConfigSection::operator=(const ConfigSection&) = default;
ConfigSection::ConfigSection(ConfigSection&&) noexcept = default;
ConfigSection& ConfigSection::operator=(ConfigSection&&) noexcept = default;

ConfigSection::ConfigSection(std::shared_ptr<const ConfigDocument> document, const void* table,
                             std::string path)
    : document_(std::move(document)), table_(table), path_(std::move(path)) {}

ConfigSection ConfigSectionAccess::root(std::shared_ptr<const ConfigDocument> document) {
  const void* table = document->root.get();
  return ConfigSection(std::move(document), table, "");
}

const ConfigDocument* ConfigSectionAccess::document(const ConfigSection& section) {
  return section.document_.get();
}

ConfigSection ConfigSection::parse(std::string_view toml_text, std::string source_name) {
  auto document = std::make_shared<ConfigDocument>();
  document->source_name = std::move(source_name);
  document->root = std::make_shared<const toml::table>(parse_toml(toml_text, *document));
  return ConfigSectionAccess::root(std::move(document));
}

namespace {

// What a key resolves to: a TOML node, an environment override, or nothing.
struct Lookup {
  const toml::node* node = nullptr;
  const EnvOverride* override = nullptr;
  bool found() const { return node != nullptr || override != nullptr; }
};

}  // namespace

bool ConfigSection::empty() const {
  return keys().empty();
}

bool ConfigSection::contains(std::string_view key) const {
  if (table_ && as_table(table_)->contains(key)) return true;
  if (document_) {
    if (document_->overrides.count(join_path(path_, key)) > 0) return true;
    // A section that only exists through overrides (`DANUBE_CONNECT__MQTT__HOST` with no
    // [mqtt] table) still counts as present at the root.
    if (path_.empty()) {
      const std::string prefix = std::string(key) + ".";
      const auto it = document_->overrides.lower_bound(prefix);
      if (it != document_->overrides.end() && it->first.starts_with(prefix)) return true;
    }
  }
  return false;
}

std::vector<std::string> ConfigSection::keys() const {
  std::set<std::string> names;
  if (table_) {
    for (const auto& [key, node] : *as_table(table_))
      names.insert(std::string(key.str()));
  }
  if (document_) {
    const std::string prefix = path_.empty() ? "" : path_ + ".";
    for (const auto& [path, value] : document_->overrides) {
      if (!path.starts_with(prefix)) continue;
      std::string rest = path.substr(prefix.size());
      if (path_.empty()) rest = rest.substr(0, rest.find('.'));
      if (rest.find('.') == std::string::npos) names.insert(rest);
    }
  }
  return {names.begin(), names.end()};
}

std::string ConfigSection::display_key(std::string_view key) const {
  return danube::connect::display_key(path_, key);
}

std::string ConfigSection::location(std::string_view key) const {
  if (!document_) return {};
  if (const auto it = document_->overrides.find(join_path(path_, key));
      it != document_->overrides.end()) {
    return it->second.variable;
  }
  if (table_) {
    const auto* table = as_table(table_);
    for (const auto& [name, node] : *table) {
      if (name.str() == key) {
        const auto& region = name.source().begin.line != 0 ? name.source() : node.source();
        return document_->location(region);
      }
    }
    return document_->location(table->source());
  }
  return document_->source_name;
}

void ConfigSection::fail(std::string_view key, std::string problem) const {
  throw ConfigError(location(key), display_key(key), std::move(problem));
}

namespace {

Lookup find(const std::shared_ptr<const ConfigDocument>& document, const void* table,
            const std::string& path, std::string_view key) {
  Lookup lookup;
  if (document) {
    const auto it = document->overrides.find(join_path(path, key));
    if (it != document->overrides.end()) lookup.override = &it->second;
  }
  if (!lookup.override && table) lookup.node = as_table(table)->get(key);
  return lookup;
}

}  // namespace

std::optional<std::string> ConfigSection::get_string(std::string_view key) const {
  const Lookup lookup = find(document_, table_, path_, key);
  if (lookup.override) return lookup.override->value;
  if (!lookup.node) return std::nullopt;
  if (const auto value = lookup.node->value_exact<std::string>()) return *value;
  fail(key, "expected a string (got " + describe_node(*lookup.node) + ")");
}

std::string ConfigSection::get_string(std::string_view key, std::string fallback) const {
  auto value = get_string(key);
  return value ? std::move(*value) : std::move(fallback);
}

std::string ConfigSection::require_string(std::string_view key) const {
  auto value = get_string(key);
  if (!value) fail(key, "missing required key (expected a string)");
  return std::move(*value);
}

std::optional<std::string> ConfigSection::get_topic(std::string_view key) const {
  auto value = get_string(key);
  std::string why;
  if (value && !parse_topic_name(*value, &why)) {
    fail(key, "invalid topic name " + quote_excerpt(*value) + ": " + why);
  }
  return value;
}

std::string ConfigSection::get_topic(std::string_view key, std::string fallback) const {
  auto value = get_topic(key);
  return value ? std::move(*value) : std::move(fallback);
}

std::string ConfigSection::require_topic(std::string_view key) const {
  auto value = get_topic(key);
  if (!value) fail(key, "missing required key (expected a topic name)");
  return std::move(*value);
}

std::optional<std::int64_t> ConfigSection::get_integer(std::string_view key) const {
  const Lookup lookup = find(document_, table_, path_, key);
  if (lookup.override) {
    const std::string& text = lookup.override->value;
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      fail(key, "expected an integer (got " + quote_excerpt(text) + ")");
    }
    return value;
  }
  if (!lookup.node) return std::nullopt;
  if (const auto value = lookup.node->value_exact<std::int64_t>()) return *value;
  fail(key, "expected an integer (got " + describe_node(*lookup.node) + ")");
}

std::int64_t ConfigSection::get_integer(std::string_view key, std::int64_t fallback) const {
  return get_integer(key).value_or(fallback);
}

std::int64_t ConfigSection::require_integer(std::string_view key) const {
  const auto value = get_integer(key);
  if (!value) fail(key, "missing required key (expected an integer)");
  return *value;
}

namespace {
void check_range(const ConfigSection& section, std::string_view key, std::int64_t value,
                 std::int64_t min, std::int64_t max) {
  if (value < min) {
    section.fail(key, "must be >= " + std::to_string(min) + " (got " + std::to_string(value) + ")");
  }
  if (value > max) {
    section.fail(key, "must be <= " + std::to_string(max) + " (got " + std::to_string(value) + ")");
  }
}
}  // namespace

std::int64_t ConfigSection::get_integer(std::string_view key, std::int64_t fallback,
                                        std::int64_t min, std::int64_t max) const {
  const auto value = get_integer(key);
  if (!value) return fallback;
  check_range(*this, key, *value, min, max);
  return *value;
}

std::int64_t ConfigSection::require_integer(std::string_view key, std::int64_t min,
                                            std::int64_t max) const {
  const auto value = require_integer(key);
  check_range(*this, key, value, min, max);
  return value;
}

std::optional<bool> ConfigSection::get_bool(std::string_view key) const {
  const Lookup lookup = find(document_, table_, path_, key);
  if (lookup.override) {
    std::string text = lookup.override->value;
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    fail(key,
         "expected a boolean: true or false (got " + quote_excerpt(lookup.override->value) + ")");
  }
  if (!lookup.node) return std::nullopt;
  if (const auto value = lookup.node->value_exact<bool>()) return *value;
  fail(key, "expected a boolean (got " + describe_node(*lookup.node) + ")");
}

bool ConfigSection::get_bool(std::string_view key, bool fallback) const {
  return get_bool(key).value_or(fallback);
}

bool ConfigSection::require_bool(std::string_view key) const {
  const auto value = get_bool(key);
  if (!value) fail(key, "missing required key (expected a boolean)");
  return *value;
}

std::optional<double> ConfigSection::get_float(std::string_view key) const {
  const Lookup lookup = find(document_, table_, path_, key);
  if (lookup.override) {
    const std::string& text = lookup.override->value;
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value)) {
      fail(key, "expected a number (got " + quote_excerpt(text) + ")");
    }
    return value;
  }
  if (!lookup.node) return std::nullopt;
  if (const auto value = lookup.node->value_exact<double>()) return *value;
  if (const auto value = lookup.node->value_exact<std::int64_t>()) {
    return static_cast<double>(*value);
  }
  fail(key, "expected a number (got " + describe_node(*lookup.node) + ")");
}

double ConfigSection::get_float(std::string_view key, double fallback) const {
  return get_float(key).value_or(fallback);
}

double ConfigSection::require_float(std::string_view key) const {
  const auto value = get_float(key);
  if (!value) fail(key, "missing required key (expected a number)");
  return *value;
}

std::optional<std::vector<std::string>> ConfigSection::get_string_array(
    std::string_view key) const {
  const Lookup lookup = find(document_, table_, path_, key);
  if (lookup.override) {
    std::vector<std::string> items;
    std::string_view rest = lookup.override->value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ')
        item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ')
        item.remove_suffix(1);
      if (!item.empty()) items.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return items;
  }
  if (!lookup.node) return std::nullopt;
  const auto* array = lookup.node->as_array();
  if (!array) fail(key, "expected an array of strings (got " + describe_node(*lookup.node) + ")");
  std::vector<std::string> items;
  items.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto value = (*array)[i].value_exact<std::string>();
    if (!value) {
      fail(key, "expected an array of strings (element " + std::to_string(i) + " is " +
                    describe_node((*array)[i]) + ")");
    }
    items.push_back(*value);
  }
  return items;
}

std::vector<std::string> ConfigSection::require_string_array(std::string_view key) const {
  auto value = get_string_array(key);
  if (!value) fail(key, "missing required key (expected an array of strings)");
  return std::move(*value);
}

std::optional<ConfigSection> ConfigSection::get_section(std::string_view key) const {
  const Lookup lookup = find(document_, table_, path_, key);
  if (lookup.override) {
    fail(key, "expected a table, but it was set by an environment variable");
  }
  if (!lookup.node) {
    // Only overrides below it (a section created from the environment).
    if (path_.empty() && contains(key)) {
      return ConfigSection(document_, nullptr, join_path(path_, key));
    }
    return std::nullopt;
  }
  const auto* table = lookup.node->as_table();
  if (!table) fail(key, "expected a table (got " + describe_node(*lookup.node) + ")");
  return ConfigSection(document_, table, join_path(path_, key));
}

ConfigSection ConfigSection::require_section(std::string_view key) const {
  auto section = get_section(key);
  if (!section) fail(key, "missing required table");
  return std::move(*section);
}

std::vector<ConfigSection> ConfigSection::get_sections(std::string_view key) const {
  const Lookup lookup = find(document_, table_, path_, key);
  if (lookup.override) {
    fail(key, "expected an array of tables, but it was set by an environment variable");
  }
  if (!lookup.node) return {};
  const auto* array = lookup.node->as_array();
  if (!array) {
    fail(key, "expected an array of tables (got " + describe_node(*lookup.node) + ")");
  }
  std::vector<ConfigSection> sections;
  sections.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto* table = (*array)[i].as_table();
    if (!table) {
      fail(key, "expected an array of tables (element " + std::to_string(i) + " is " +
                    describe_node((*array)[i]) + ")");
    }
    sections.push_back(
        ConfigSection(document_, table, join_path(path_, key) + "[" + std::to_string(i) + "]"));
  }
  return sections;
}

std::vector<ConfigSection> ConfigSection::require_sections(std::string_view key) const {
  auto sections = get_sections(key);
  if (sections.empty()) fail(key, "missing required array of tables (at least one entry)");
  return sections;
}

void ConfigSection::reject_unknown_keys(std::initializer_list<std::string_view> known) const {
  reject_unknown_keys(std::vector<std::string>(known.begin(), known.end()));
}

void ConfigSection::reject_unknown_keys(const std::vector<std::string>& known) const {
  for (const auto& key : keys()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const auto& name : known)
      list += (list.empty() ? "" : ", ") + name;
    fail(key, "unknown key (known keys: " + list + ")");
  }
}

}  // namespace danube::connect
