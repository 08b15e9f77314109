#include "danube/services/avro.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "avro_logical.hpp"
#include "danube/common/json_nesting.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/serialization.hpp"

namespace danube::services::avro {

namespace serialization = connect::serialization;

using nlohmann::json;

struct Schema::Node {
  enum class Type {
    null_type,
    boolean,
    int_type,
    long_type,
    float_type,
    double_type,
    bytes,
    string,
    record,
    enumeration,
    array,
    map,
    union_type,
    fixed,
  };
  // Logical types with a valid underlying type; others are ignored, as the specification says.
  enum class Logical {
    none,
    decimal,  // bytes, fixed: `precision` digits, `scale` of them after the point
    uuid,     // string
    date,     // int: days since 1970-01-01
    time_millis,
    time_micros,
    timestamp_millis,
    timestamp_micros,
    timestamp_nanos,
    local_timestamp_millis,
    local_timestamp_micros,
    local_timestamp_nanos,
    duration,  // fixed(12), carried as its bytes
  };
  struct Field {
    std::string name;
    const Node* type = nullptr;
    std::optional<json> default_value;
  };

  Type type = Type::null_type;
  Logical logical = Logical::none;
  int precision = 0;
  int scale = 0;
  std::optional<std::string> enum_default;  // the symbol a reader uses for unknown ones
  std::string full_name;                    // named types (record, enum, fixed)
  std::vector<Field> fields;
  std::vector<std::string> symbols;
  const Node* items = nullptr;  // array items, map values
  std::vector<const Node*> branches;
  std::size_t fixed_size = 0;
};

using Node = Schema::Node;
using Type = Node::Type;
using Logical = Node::Logical;

struct Schema::Impl {
  std::vector<std::unique_ptr<Node>> nodes;  // owns every node; the rest point into it
  std::map<std::string, const Node*> named;
  const Node* root = nullptr;
};

namespace {

std::string nesting_error() {
  return "nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels";
}

// Steps (encode calls) that trial encodes of union branches may waste before an encode gives
// up: a base, plus some per value node once the base is spent. Trying each branch in turn
// costs time exponential in the nesting of unions whose branches accept the same JSON (a map
// and a record both take an object), and the values tried include schema defaults, which come
// from the registry, and source payloads. Real values waste a few steps per union, so the
// limit keeps the work of an encode linear in the size of its value.
constexpr std::size_t kBaseWastedSteps = 10'000;
constexpr std::size_t kWastedStepsPerNode = 4;

std::string_view type_name(Type type) {
  switch (type) {
    case Type::null_type:
      return "null";
    case Type::boolean:
      return "boolean";
    case Type::int_type:
      return "int";
    case Type::long_type:
      return "long";
    case Type::float_type:
      return "float";
    case Type::double_type:
      return "double";
    case Type::bytes:
      return "bytes";
    case Type::string:
      return "string";
    case Type::record:
      return "record";
    case Type::enumeration:
      return "enum";
    case Type::array:
      return "array";
    case Type::map:
      return "map";
    case Type::union_type:
      return "union";
    case Type::fixed:
      return "fixed";
  }
  return "unknown";
}

std::optional<Type> primitive(std::string_view name) {
  if (name == "null") return Type::null_type;
  if (name == "boolean") return Type::boolean;
  if (name == "int") return Type::int_type;
  if (name == "long") return Type::long_type;
  if (name == "float") return Type::float_type;
  if (name == "double") return Type::double_type;
  if (name == "bytes") return Type::bytes;
  if (name == "string") return Type::string;
  return std::nullopt;
}

// The name a union branch is known by in the Avro JSON encoding.
std::string branch_name(const Node& node) {
  if (!node.full_name.empty()) return node.full_name;
  return std::string(type_name(node.type));
}

[[noreturn]] void schema_error(const std::string& message) {
  throw ConnectorError::configuration("avro schema: " + message);
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

class SchemaParser {
 public:
  explicit SchemaParser(Schema::Impl& impl) : impl_(impl) {}

  const Node* parse(const json& value, const std::string& enclosing_namespace, int depth) {
    if (depth > kMaxNestingDepth) schema_error(nesting_error());
    if (value.is_string()) return resolve(value.get<std::string>(), enclosing_namespace);
    if (value.is_array()) return parse_union(value, enclosing_namespace, depth);
    if (!value.is_object()) schema_error("a type must be a string, an object or an array");
    const auto type_it = value.find("type");
    if (type_it == value.end()) schema_error("an object type needs a \"type\"");
    if (!type_it->is_string()) {
      // {"type": {...}} nests a full type definition.
      return parse(*type_it, enclosing_namespace, depth + 1);
    }
    const std::string type = type_it->get<std::string>();
    if (const auto simple = primitive(type)) {
      auto& node = make(*simple);
      apply_logical_type(node, value);
      return &node;
    }
    if (type == "record" || type == "error") return parse_record(value, enclosing_namespace, depth);
    if (type == "enum") return parse_enum(value, enclosing_namespace);
    if (type == "array") {
      auto& node = make(Type::array);
      node.items = parse(required(value, "items", "array"), enclosing_namespace, depth + 1);
      return &node;
    }
    if (type == "map") {
      auto& node = make(Type::map);
      node.items = parse(required(value, "values", "map"), enclosing_namespace, depth + 1);
      return &node;
    }
    if (type == "fixed") return parse_fixed(value, enclosing_namespace);
    return resolve(type, enclosing_namespace);
  }

 private:
  Node& make(Type type) {
    impl_.nodes.push_back(std::make_unique<Node>());
    impl_.nodes.back()->type = type;
    return *impl_.nodes.back();
  }

  static const json& required(const json& object, const char* key, const char* what) {
    const auto it = object.find(key);
    if (it == object.end()) schema_error(std::string(what) + " needs \"" + key + "\"");
    return *it;
  }

  const Node* resolve(const std::string& name, const std::string& enclosing_namespace) {
    if (const auto simple = primitive(name)) return &make(*simple);
    if (name.find('.') == std::string::npos && !enclosing_namespace.empty()) {
      const auto it = impl_.named.find(enclosing_namespace + "." + name);
      if (it != impl_.named.end()) return it->second;
    }
    const auto it = impl_.named.find(name);
    if (it != impl_.named.end()) return it->second;
    schema_error("unknown type '" + name + "'");
  }

  // Returns the full name and the namespace that applies inside the named type.
  std::pair<std::string, std::string> full_name(const json& value, const std::string& enclosing,
                                                const char* what) {
    const json& name_value = required(value, "name", what);
    if (!name_value.is_string()) schema_error(std::string(what) + " name must be a string");
    std::string name = name_value.get<std::string>();
    std::string space = enclosing;
    if (const auto it = value.find("namespace"); it != value.end()) {
      if (!it->is_string()) schema_error(std::string(what) + " namespace must be a string");
      space = it->get<std::string>();
    }
    std::string full;
    if (name.find('.') != std::string::npos) {
      full = name;
      space = name.substr(0, name.rfind('.'));
    } else {
      full = space.empty() ? name : space + "." + name;
    }
    std::string_view rest = full;
    while (true) {
      const auto dot = rest.find('.');
      if (!valid_name(rest.substr(0, dot))) schema_error("invalid name '" + full + "'");
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    if (primitive(name)) schema_error("'" + name + "' cannot name a " + what);
    if (impl_.named.count(full) > 0) schema_error("type '" + full + "' is defined twice");
    return {full, space};
  }

  const Node* parse_record(const json& value, const std::string& enclosing, int depth) {
    auto [name, space] = full_name(value, enclosing, "record");
    auto& node = make(Type::record);
    node.full_name = name;
    impl_.named[name] = &node;  // before the fields, so the record may refer to itself
    const json& fields = required(value, "fields", "record");
    if (!fields.is_array()) schema_error("record '" + name + "' fields must be an array");
    std::set<std::string> seen;
    for (const auto& field : fields) {
      if (!field.is_object())
        schema_error("record '" + name + "' has a field that is not an object");
      const json& field_name = required(field, "name", "field");
      if (!field_name.is_string() || !valid_name(field_name.get<std::string>())) {
        schema_error("record '" + name + "' has a field with an invalid name");
      }
      Node::Field parsed;
      parsed.name = field_name.get<std::string>();
      if (!seen.insert(parsed.name).second) {
        schema_error("record '" + name + "' field '" + parsed.name + "' is defined twice");
      }
      try {
        parsed.type = parse(required(field, "type", "field"), space, depth + 1);
      } catch (const ConnectorError& e) {
        schema_error("record '" + name + "' field '" + parsed.name +
                     "': " + e.message().substr(std::string_view("avro schema: ").size()));
      }
      if (const auto it = field.find("default"); it != field.end()) parsed.default_value = *it;
      node.fields.push_back(std::move(parsed));
    }
    return &node;
  }

  const Node* parse_enum(const json& value, const std::string& enclosing) {
    auto [name, space] = full_name(value, enclosing, "enum");
    auto& node = make(Type::enumeration);
    node.full_name = name;
    const json& symbols = required(value, "symbols", "enum");
    if (!symbols.is_array() || symbols.empty()) {
      schema_error("enum '" + name + "' needs a non-empty symbols array");
    }
    std::set<std::string> seen;
    for (const auto& symbol : symbols) {
      if (!symbol.is_string() || !valid_name(symbol.get<std::string>()) ||
          !seen.insert(symbol.get<std::string>()).second) {
        schema_error("enum '" + name + "' has an invalid or repeated symbol");
      }
      node.symbols.push_back(symbol.get<std::string>());
    }
    if (const auto it = value.find("default"); it != value.end()) {
      if (!it->is_string() || !seen.count(it->get<std::string>())) {
        schema_error("enum '" + name + "' default must be one of its symbols");
      }
      node.enum_default = it->get<std::string>();
    }
    impl_.named[name] = &node;
    return &node;
  }

  const Node* parse_fixed(const json& value, const std::string& enclosing) {
    auto [name, space] = full_name(value, enclosing, "fixed");
    auto& node = make(Type::fixed);
    node.full_name = name;
    const json& size = required(value, "size", "fixed");
    if (!size.is_number_unsigned() || size.get<std::uint64_t>() > (1u << 24)) {
      schema_error("fixed '" + name + "' needs a size between 0 and 16777216");
    }
    node.fixed_size = size.get<std::size_t>();
    impl_.named[name] = &node;
    apply_logical_type(node, value);
    return &node;
  }

  // The logicalType of a primitive or fixed type, when its underlying type fits; a decimal's
  // precision and scale are checked (a decimal beyond 38 digits is refused: this codec holds
  // decimals in 128 bits).
  static void apply_logical_type(Node& node, const json& value) {
    const auto it = value.find("logicalType");
    if (it == value.end() || !it->is_string()) return;
    const std::string& name = it->get_ref<const std::string&>();
    const bool is_fixed = node.type == Type::fixed;
    auto set_if = [&](bool fits, Logical logical) {
      if (fits) node.logical = logical;
    };
    if (name == "decimal") {
      if (node.type != Type::bytes && !is_fixed) return;
      const auto precision = value.find("precision");
      const auto scale = value.find("scale");
      if (precision == value.end() || !precision->is_number_integer() ||
          precision->get<std::int64_t>() <= 0) {
        return;
      }
      if (scale != value.end() && (!scale->is_number_integer() || scale->get<std::int64_t>() < 0 ||
                                   scale->get<std::int64_t>() > precision->get<std::int64_t>())) {
        return;
      }
      if (is_fixed &&
          precision->get<std::int64_t>() > logical::max_decimal_digits(node.fixed_size)) {
        return;
      }
      if (precision->get<std::int64_t>() > logical::kMaxDecimalPrecision) {
        schema_error("decimal precision " + std::to_string(precision->get<std::int64_t>()) +
                     " is above the " + std::to_string(logical::kMaxDecimalPrecision) +
                     " digits this codec supports");
      }
      node.logical = Logical::decimal;
      node.precision = static_cast<int>(precision->get<std::int64_t>());
      node.scale = scale == value.end() ? 0 : static_cast<int>(scale->get<std::int64_t>());
      return;
    }
    const bool is_int = node.type == Type::int_type;
    const bool is_long = node.type == Type::long_type;
    if (name == "uuid") set_if(node.type == Type::string, Logical::uuid);
    if (name == "date") set_if(is_int, Logical::date);
    if (name == "time-millis") set_if(is_int, Logical::time_millis);
    if (name == "time-micros") set_if(is_long, Logical::time_micros);
    if (name == "timestamp-millis") set_if(is_long, Logical::timestamp_millis);
    if (name == "timestamp-micros") set_if(is_long, Logical::timestamp_micros);
    if (name == "timestamp-nanos") set_if(is_long, Logical::timestamp_nanos);
    if (name == "local-timestamp-millis") set_if(is_long, Logical::local_timestamp_millis);
    if (name == "local-timestamp-micros") set_if(is_long, Logical::local_timestamp_micros);
    if (name == "local-timestamp-nanos") set_if(is_long, Logical::local_timestamp_nanos);
    if (name == "duration") set_if(is_fixed && node.fixed_size == 12, Logical::duration);
  }

  const Node* parse_union(const json& value, const std::string& enclosing, int depth) {
    if (value.empty()) schema_error("a union needs at least one branch");
    auto& node = make(Type::union_type);
    std::set<std::string> names;
    for (const auto& branch : value) {
      const Node* parsed = parse(branch, enclosing, depth + 1);
      if (parsed->type == Type::union_type) schema_error("a union cannot directly contain a union");
      if (!names.insert(branch_name(*parsed)).second) {
        schema_error("a union contains '" + branch_name(*parsed) + "' twice");
      }
      node.branches.push_back(parsed);
    }
    return &node;
  }

  Schema::Impl& impl_;
};

// ---------------------------------------------------------------------------------------------
// Encoding

void write_long(std::string& out, std::int64_t value) {
  auto zigzag = (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    out += static_cast<char>((zigzag & 0x7F) | 0x80);
    zigzag >>= 7;
  }
  out += static_cast<char>(zigzag);
}

template <class T>
void write_little_endian(std::string& out, T value) {
  static_assert(std::endian::native == std::endian::little, "big-endian hosts are not supported");
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

// Where a value sits in the encoded document ("$.items[2].qty"); rendered only for errors, so
// the hot path builds no strings.
struct Path {
  const Path* parent = nullptr;
  std::string_view field;
  std::size_t index = std::string::npos;
  // Marks where a union branch is tried: errors below it are caught and dropped, so rendering
  // them (most of the cost of a failed try when paths are deep) is skipped.
  bool trial = false;

  std::string render() const {
    std::string text = parent ? parent->render() : "$";
    if (!field.empty()) text += "." + std::string(field);
    if (index != std::string::npos) text += "[" + std::to_string(index) + "]";
    return text;
  }

  bool in_trial() const {
    for (const Path* at = this; at != nullptr; at = at->parent) {
      if (at->trial) return true;
    }
    return false;
  }
};

[[noreturn]] void encode_error(const Path& path, const std::string& problem) {
  if (path.in_trial()) throw ConnectorError::serialization(problem);
  throw ConnectorError::serialization("avro encode " + path.render() + ": " + problem);
}

// The number of values in `root`, nested ones included, counted without recursion (a value
// may nest deeper than the encoder goes).
std::size_t count_nodes(const json& root) {
  std::size_t count = 0;
  std::vector<const json*> pending{&root};
  while (!pending.empty()) {
    const json* value = pending.back();
    pending.pop_back();
    ++count;
    if (value->is_structured()) {
      for (const auto& child : *value)
        pending.push_back(&child);
    }
  }
  return count;
}

// Work done by one top-level encode, for the union budget (kBaseWastedSteps).
struct EncodeBudget {
  explicit EncodeBudget(const json& encoded) : value(&encoded) {}
  explicit EncodeBudget(std::size_t fixed_limit) : limit(fixed_limit) {}

  std::size_t steps = 0;
  std::size_t wasted = 0;
  // The value encoded, to size the limit once the base is spent; or null with a fixed limit.
  const json* value = nullptr;
  std::size_t limit = 0;
  // Set once the budget is spent: enclosing unions must not try further branches then.
  bool exhausted = false;

  // Adds failed steps; false once they exceed the limit.
  bool waste(std::size_t failed_steps) {
    wasted += failed_steps;
    if (wasted <= kBaseWastedSteps) return true;
    if (limit == 0) limit = kBaseWastedSteps + kWastedStepsPerNode * count_nodes(*value);
    return wasted <= limit;
  }
};

std::string describe_json(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "value";
  }
}

// A JSON string whose code points are all <= U+00FF, as bytes.
std::string latin1_bytes(const std::string& text, const Path& path) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size() && c <= 0xC3) {
      out +=
          static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3F));
      i += 2;
    } else {
      encode_error(path, "bytes must be a string of code points U+0000..U+00FF");
    }
  }
  return out;
}

std::string latin1_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3F));
    }
  }
  return out;
}

void encode(const Node& node, const json& value, std::string& out, const Path& path, int depth,
            EncodeBudget& budget);

// A shallow check: could `value` be an instance of `node`? Lets a union pick its branch
// without trying (and failing) to encode the others.
bool is_temporal(Logical logical) {
  return logical != Logical::none && logical != Logical::decimal && logical != Logical::uuid &&
         logical != Logical::duration;
}

bool could_accept(const Node& node, const json& value) {
  if (node.logical == Logical::decimal) return value.is_number() || value.is_string();
  if (is_temporal(node.logical)) return value.is_number_integer() || value.is_string();
  switch (node.type) {
    case Type::null_type:
      return value.is_null();
    case Type::boolean:
      return value.is_boolean();
    case Type::int_type:
    case Type::long_type:
      return value.is_number_integer();
    case Type::float_type:
    case Type::double_type:
      return value.is_number();
    case Type::bytes:
    case Type::string:
    case Type::fixed:
      return value.is_string();
    case Type::enumeration:
      return value.is_string() &&
             std::find(node.symbols.begin(), node.symbols.end(),
                       value.get_ref<const std::string&>()) != node.symbols.end();
    case Type::record:
    case Type::map:
      return value.is_object();
    case Type::array:
      return value.is_array();
    case Type::union_type:
      return true;
  }
  return false;
}

void encode_union(const Node& node, const json& value, std::string& out, const Path& path,
                  int depth, EncodeBudget& budget) {
  // The Avro JSON form {"type name": value} selects the branch explicitly.
  if (value.is_object() && value.size() == 1) {
    const auto& key = value.begin().key();
    for (std::size_t i = 0; i < node.branches.size(); ++i) {
      const Node& branch = *node.branches[i];
      const std::string name = branch_name(branch);
      const auto short_name = name.substr(name.rfind('.') + 1);
      if (key == name || key == short_name) {
        write_long(out, static_cast<std::int64_t>(i));
        encode(branch, value.begin().value(), out, path, depth + 1, budget);
        return;
      }
    }
  }
  for (std::size_t i = 0; i < node.branches.size(); ++i) {
    if (!could_accept(*node.branches[i], value)) continue;
    // Encode into a scratch buffer: a branch may still fail deeper (a record's fields), and
    // then the next candidate is tried.
    std::string attempt;
    const std::size_t steps_before = budget.steps;
    const std::size_t wasted_before = budget.wasted;
    try {
      encode(*node.branches[i], value, attempt, Path{&path, {}, std::string::npos, true}, depth + 1,
             budget);
    } catch (const ConnectorError&) {
      if (budget.exhausted) throw;
      // Steps of inner unions' failed branches are already counted.
      if (!budget.waste(budget.steps - steps_before - (budget.wasted - wasted_before))) {
        budget.exhausted = true;
        // Rendered even in a trial: this error ends the whole encode.
        throw ConnectorError::serialization(
            "avro encode " + path.render() + ": no union branch matched within " +
            std::to_string(budget.limit) + " steps of trial encoding");
      }
      continue;
    }
    write_long(out, static_cast<std::int64_t>(i));
    out += attempt;
    return;
  }
  std::string names;
  for (const auto* branch : node.branches)
    names += (names.empty() ? "" : ", ") + branch_name(*branch);
  encode_error(path, "no branch of the union [" + names + "] accepts a " + describe_json(value));
}

// Logical types that take other JSON than their underlying type: a decimal from a number or
// a decimal string, dates and times from ISO 8601 text. True when the value is written.
bool encode_logical(const Node& node, const json& value, std::string& out, const Path& path) {
  try {
    switch (node.logical) {
      case Logical::decimal: {
        const auto bytes = logical::encode_decimal(
            value, node.precision, node.scale,
            node.type == Type::fixed ? std::optional<std::size_t>(node.fixed_size) : std::nullopt);
        if (node.type == Type::bytes) write_long(out, static_cast<std::int64_t>(bytes.size()));
        out += bytes;
        return true;
      }
      case Logical::uuid:
        if (value.is_string() && !logical::is_uuid(value.get_ref<const std::string&>())) {
          encode_error(path, "'" + value.get<std::string>() + "' is not a UUID");
        }
        return false;
      default:
        break;
    }
    if (!is_temporal(node.logical) || !value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    const bool local = node.logical == Logical::local_timestamp_millis ||
                       node.logical == Logical::local_timestamp_micros ||
                       node.logical == Logical::local_timestamp_nanos;
    std::int64_t encoded = 0;
    switch (node.logical) {
      case Logical::date:
        encoded = logical::parse_date(text);
        break;
      case Logical::time_millis:
        encoded = logical::parse_time_micros(text) / 1000;
        break;
      case Logical::time_micros:
        encoded = logical::parse_time_micros(text);
        break;
      case Logical::timestamp_millis:
      case Logical::local_timestamp_millis:
        encoded = logical::parse_timestamp_nanos(text, local) / 1'000'000;
        break;
      case Logical::timestamp_micros:
      case Logical::local_timestamp_micros:
        encoded = logical::parse_timestamp_nanos(text, local) / 1000;
        break;
      default:
        encoded = logical::parse_timestamp_nanos(text, local);
        break;
    }
    write_long(out, encoded);
    return true;
  } catch (const std::invalid_argument& e) {
    encode_error(path, e.what());
  }
}

void encode(const Node& node, const json& value, std::string& out, const Path& path, int depth,
            EncodeBudget& budget) {
  if (depth > kMaxNestingDepth) encode_error(path, nesting_error());
  ++budget.steps;
  if (node.logical != Logical::none && encode_logical(node, value, out, path)) return;
  const auto expect = [&](bool ok, std::string_view expected) {
    if (!ok)
      encode_error(path, "expected " + std::string(expected) + ", got " + describe_json(value));
  };
  switch (node.type) {
    case Type::null_type:
      expect(value.is_null(), "null");
      return;
    case Type::boolean:
      expect(value.is_boolean(), "boolean");
      out += value.get<bool>() ? '\x01' : '\x00';
      return;
    case Type::int_type: {
      expect(value.is_number_integer(), "int");
      const bool fits =
          value.is_number_unsigned()
              ? value.get<std::uint64_t>() <= std::numeric_limits<std::int32_t>::max()
              : value.get<std::int64_t>() >= std::numeric_limits<std::int32_t>::min() &&
                    value.get<std::int64_t>() <= std::numeric_limits<std::int32_t>::max();
      if (!fits) encode_error(path, "value out of int range");
      write_long(out, value.get<std::int64_t>());
      return;
    }
    case Type::long_type:
      expect(value.is_number_integer(), "long");
      if (value.is_number_unsigned() &&
          value.get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        encode_error(path, "value out of long range");
      }
      write_long(out, value.get<std::int64_t>());
      return;
    case Type::float_type:
      expect(value.is_number(), "float");
      write_little_endian(out, value.get<float>());
      return;
    case Type::double_type:
      expect(value.is_number(), "double");
      write_little_endian(out, value.get<double>());
      return;
    case Type::bytes: {
      expect(value.is_string(), "bytes (a string)");
      const std::string bytes = latin1_bytes(value.get_ref<const std::string&>(), path);
      write_long(out, static_cast<std::int64_t>(bytes.size()));
      out += bytes;
      return;
    }
    case Type::string: {
      expect(value.is_string(), "string");
      const auto& text = value.get_ref<const std::string&>();
      write_long(out, static_cast<std::int64_t>(text.size()));
      out += text;
      return;
    }
    case Type::record: {
      expect(value.is_object(), "record " + node.full_name + " (an object)");
      std::size_t present = 0;
      for (const auto& field : node.fields) {
        const Path field_path{&path, field.name};
        const auto it = value.find(field.name);
        if (it != value.end()) {
          ++present;
          encode(*field.type, *it, out, field_path, depth + 1, budget);
        } else if (field.default_value) {
          // A union's default belongs to its first branch.
          if (field.type->type == Type::union_type) {
            write_long(out, 0);
            encode(*field.type->branches.front(), *field.default_value, out, field_path, depth + 1,
                   budget);
          } else {
            encode(*field.type, *field.default_value, out, field_path, depth + 1, budget);
          }
        } else {
          encode_error(field_path, "missing field (no default)");
        }
      }
      if (present != value.size()) {
        for (const auto& item : value.items()) {
          // Not a structured binding: clang 14 (the fuzz preset) cannot capture one.
          const std::string& key = item.key();
          const bool known = std::any_of(node.fields.begin(), node.fields.end(),
                                         [&](const Node::Field& f) { return f.name == key; });
          if (!known)
            encode_error(path, "unknown field '" + key + "' for record " + node.full_name);
        }
      }
      return;
    }
    case Type::enumeration: {
      expect(value.is_string(), "enum " + node.full_name + " (a symbol string)");
      const auto& symbol = value.get_ref<const std::string&>();
      const auto it = std::find(node.symbols.begin(), node.symbols.end(), symbol);
      if (it == node.symbols.end()) {
        encode_error(path, "'" + symbol + "' is not a symbol of enum " + node.full_name);
      }
      write_long(out, it - node.symbols.begin());
      return;
    }
    case Type::array: {
      expect(value.is_array(), "array");
      if (!value.empty()) {
        write_long(out, static_cast<std::int64_t>(value.size()));
        for (std::size_t i = 0; i < value.size(); ++i) {
          encode(*node.items, value[i], out, Path{&path, {}, i}, depth + 1, budget);
        }
      }
      write_long(out, 0);
      return;
    }
    case Type::map: {
      expect(value.is_object(), "map (an object)");
      if (!value.empty()) {
        write_long(out, static_cast<std::int64_t>(value.size()));
        for (const auto& [key, item] : value.items()) {
          write_long(out, static_cast<std::int64_t>(key.size()));
          out += key;
          encode(*node.items, item, out, Path{&path, key}, depth + 1, budget);
        }
      }
      write_long(out, 0);
      return;
    }
    case Type::union_type:
      encode_union(node, value, out, path, depth, budget);
      return;
    case Type::fixed: {
      expect(value.is_string(), "fixed " + node.full_name + " (a string)");
      const std::string bytes = latin1_bytes(value.get_ref<const std::string&>(), path);
      if (bytes.size() != node.fixed_size) {
        encode_error(path, "fixed " + node.full_name + " needs " + std::to_string(node.fixed_size) +
                               " bytes, got " + std::to_string(bytes.size()));
      }
      out += bytes;
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes), item_budget_(bytes.size() + 10'000) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw ConnectorError::invalid_data("avro decode at byte " + std::to_string(position_) + ": " +
                                       problem);
  }

  std::int64_t read_long() {
    std::uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position_ >= bytes_.size()) fail("truncated varint");
      const auto byte = static_cast<unsigned char>(bytes_[position_++]);
      if (shift == 63 && (byte & 0x7E) != 0) fail("varint overflows 64 bits");
      result |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        return static_cast<std::int64_t>((result >> 1) ^ (~(result & 1) + 1));
      }
    }
    fail("varint longer than 10 bytes");
  }

  std::string_view read_bytes(std::int64_t length) {
    if (length < 0) fail("negative length");
    if (static_cast<std::uint64_t>(length) > bytes_.size() - position_) fail("length past the end");
    const auto view = bytes_.substr(position_, static_cast<std::size_t>(length));
    position_ += static_cast<std::size_t>(length);
    return view;
  }

  template <class T>
  T read_little_endian() {
    const auto raw = read_bytes(sizeof(T));
    T value;
    std::memcpy(&value, raw.data(), sizeof(T));
    return value;
  }

  // Array and map items; bounded so zero-size items cannot expand a small input without end.
  void take_items(std::int64_t count) {
    if (count < 0 || static_cast<std::uint64_t>(count) > item_budget_) fail("too many items");
    item_budget_ -= static_cast<std::uint64_t>(count);
  }

  bool at_end() const { return position_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t position_ = 0;
  std::uint64_t item_budget_;
};

json decode(const Node& node, Reader& in, int depth);

// Reads the blocks of an array or map, calling `item` for each element.
template <class ItemFn>
void read_blocks(Reader& in, ItemFn&& item) {
  while (true) {
    std::int64_t count = in.read_long();
    if (count == 0) return;
    if (count < 0) {
      if (count == std::numeric_limits<std::int64_t>::min()) in.fail("invalid block count");
      count = -count;
      (void)in.read_long();  // the block's size in bytes, which we do not need
    }
    in.take_items(count);
    for (std::int64_t i = 0; i < count; ++i)
      item();
  }
}

// A decimal as exact text ("-12.50"): a JSON number would round it.
json decode_decimal(const Node& node, Reader& in) {
  const auto bytes = node.type == Type::fixed
                         ? in.read_bytes(static_cast<std::int64_t>(node.fixed_size))
                         : in.read_bytes(in.read_long());
  try {
    return logical::decode_decimal(bytes, node.scale);
  } catch (const std::invalid_argument& e) {
    in.fail(e.what());
  }
}

// A map's entries: UTF-8 keys, each followed by the value `read_value` reads.
template <class ValueFn>
json read_map(Reader& in, ValueFn&& read_value) {
  json object = json::object();
  read_blocks(in, [&] {
    const auto key = in.read_bytes(in.read_long());
    if (!serialization::is_valid_utf8(key)) in.fail("map key is not valid UTF-8");
    object[std::string(key)] = read_value();
  });
  return object;
}

json decode(const Node& node, Reader& in, int depth) {
  if (depth > kMaxNestingDepth) in.fail(nesting_error());
  if (node.logical == Logical::decimal) return decode_decimal(node, in);
  switch (node.type) {
    case Type::null_type:
      return nullptr;
    case Type::boolean: {
      const auto byte = in.read_bytes(1)[0];
      if (byte != 0 && byte != 1) in.fail("invalid boolean");
      return byte == 1;
    }
    case Type::int_type: {
      const auto value = in.read_long();
      if (value < std::numeric_limits<std::int32_t>::min() ||
          value > std::numeric_limits<std::int32_t>::max()) {
        in.fail("int out of range");
      }
      return value;
    }
    case Type::long_type:
      return in.read_long();
    case Type::float_type:
      return in.read_little_endian<float>();
    case Type::double_type:
      return in.read_little_endian<double>();
    case Type::bytes:
      return latin1_text(in.read_bytes(in.read_long()));
    case Type::string: {
      const auto text = in.read_bytes(in.read_long());
      if (!serialization::is_valid_utf8(text)) in.fail("string is not valid UTF-8");
      return std::string(text);
    }
    case Type::record: {
      json object = json::object();
      for (const auto& field : node.fields)
        object[field.name] = decode(*field.type, in, depth + 1);
      return object;
    }
    case Type::enumeration: {
      const auto index = in.read_long();
      if (index < 0 || static_cast<std::size_t>(index) >= node.symbols.size()) {
        in.fail("enum index out of range");
      }
      return node.symbols[static_cast<std::size_t>(index)];
    }
    case Type::array: {
      json array = json::array();
      read_blocks(in, [&] { array.push_back(decode(*node.items, in, depth + 1)); });
      return array;
    }
    case Type::map:
      return read_map(in, [&] { return decode(*node.items, in, depth + 1); });
    case Type::union_type: {
      const auto index = in.read_long();
      if (index < 0 || static_cast<std::size_t>(index) >= node.branches.size()) {
        in.fail("union index out of range");
      }
      return decode(*node.branches[static_cast<std::size_t>(index)], in, depth + 1);
    }
    case Type::fixed:
      return latin1_text(in.read_bytes(static_cast<std::int64_t>(node.fixed_size)));
  }
  in.fail("unknown type");
}

// ---------------------------------------------------------------------------------------------
// Schema resolution: data written with one schema read as another (the specification's
// "Schema Resolution"). Aliases are not followed.

bool names_match(const Node& writer, const Node& reader) {
  auto unqualified = [](const std::string& name) { return name.substr(name.rfind('.') + 1); };
  return unqualified(writer.full_name) == unqualified(reader.full_name);
}

// Whether data of `writer` can be read as `reader`, not looking into fields or items.
bool matches(const Node& writer, const Node& reader) {
  if (writer.type == reader.type) {
    if (writer.type == Type::record || writer.type == Type::enumeration) {
      return names_match(writer, reader);
    }
    if (writer.type == Type::fixed) {
      return names_match(writer, reader) && writer.fixed_size == reader.fixed_size;
    }
    return true;
  }
  switch (writer.type) {
    case Type::int_type:
      return reader.type == Type::long_type || reader.type == Type::float_type ||
             reader.type == Type::double_type;
    case Type::long_type:
      return reader.type == Type::float_type || reader.type == Type::double_type;
    case Type::float_type:
      return reader.type == Type::double_type;
    case Type::string:
      return reader.type == Type::bytes;
    case Type::bytes:
      return reader.type == Type::string;
    default:
      return false;
  }
}

json decode_resolved(const Node& writer, const Node& reader, Reader& in, int depth);

json resolve_record(const Node& writer, const Node& reader, Reader& in, int depth) {
  std::vector<std::optional<json>> values(reader.fields.size());
  for (const auto& written : writer.fields) {
    const auto found = std::find_if(reader.fields.begin(), reader.fields.end(),
                                    [&](const Node::Field& f) { return f.name == written.name; });
    if (found == reader.fields.end()) {
      (void)decode(*written.type, in, depth + 1);  // a field the reader does not have
      continue;
    }
    values[static_cast<std::size_t>(found - reader.fields.begin())] =
        decode_resolved(*written.type, *found->type, in, depth + 1);
  }
  json object = json::object();
  for (std::size_t i = 0; i < reader.fields.size(); ++i) {
    const auto& field = reader.fields[i];
    if (values[i]) {
      object[field.name] = std::move(*values[i]);
    } else if (field.default_value) {
      object[field.name] = *field.default_value;
    } else {
      in.fail("field '" + field.name + "' of record " + reader.full_name +
              " is not in the writer's schema and has no default");
    }
  }
  return object;
}

json decode_resolved(const Node& writer, const Node& reader, Reader& in, int depth) {
  if (depth > kMaxNestingDepth) in.fail(nesting_error());
  if (writer.type == Type::union_type) {
    const auto index = in.read_long();
    if (index < 0 || static_cast<std::size_t>(index) >= writer.branches.size()) {
      in.fail("union index out of range");
    }
    return decode_resolved(*writer.branches[static_cast<std::size_t>(index)], reader, in,
                           depth + 1);
  }
  if (reader.type == Type::union_type) {
    for (const Node* branch : reader.branches) {
      if (matches(writer, *branch)) return decode_resolved(writer, *branch, in, depth + 1);
    }
    in.fail("the writer's " + branch_name(writer) + " matches no branch of the reader's union");
  }
  if (!matches(writer, reader)) {
    in.fail("the writer's " + branch_name(writer) + " cannot be read as " + branch_name(reader));
  }
  if (reader.logical == Logical::decimal && writer.type == reader.type) {
    return decode_decimal(reader, in);
  }
  switch (reader.type) {
    case Type::float_type:
    case Type::double_type: {
      const json value = decode(writer, in, depth);
      if (reader.type == Type::float_type) return static_cast<float>(value.get<double>());
      return value.get<double>();
    }
    case Type::string:
      return writer.type == Type::bytes ? decode(reader, in, depth) : decode(writer, in, depth);
    case Type::bytes:
      return writer.type == Type::string ? decode(reader, in, depth) : decode(writer, in, depth);
    case Type::record:
      return resolve_record(writer, reader, in, depth);
    case Type::enumeration: {
      const auto index = in.read_long();
      if (index < 0 || static_cast<std::size_t>(index) >= writer.symbols.size()) {
        in.fail("enum index out of range");
      }
      const auto& symbol = writer.symbols[static_cast<std::size_t>(index)];
      if (std::find(reader.symbols.begin(), reader.symbols.end(), symbol) != reader.symbols.end()) {
        return symbol;
      }
      if (reader.enum_default) return *reader.enum_default;
      in.fail("symbol '" + symbol + "' is not in the reader's enum " + reader.full_name +
              ", which has no default");
    }
    case Type::array: {
      json array = json::array();
      read_blocks(in, [&] {
        array.push_back(decode_resolved(*writer.items, *reader.items, in, depth + 1));
      });
      return array;
    }
    case Type::map:
      return read_map(in,
                      [&] { return decode_resolved(*writer.items, *reader.items, in, depth + 1); });
    default:
      return decode(writer, in, depth);  // the same primitive type, or int read as long
  }
}

}  // namespace

Schema Schema::parse(std::string_view schema_json) {
  // Before parsing: a deeper document would overflow the stack when a default is copied.
  if (json_nesting_exceeds_limit(schema_json)) schema_error(json_nesting_error());
  json document;
  try {
    document = json::parse(schema_json.begin(), schema_json.end());
  } catch (const json::exception& e) {
    schema_error(std::string("not valid JSON: ") + e.what());
  }
  auto impl = std::make_shared<Impl>();
  SchemaParser parser(*impl);
  impl->root = parser.parse(document, "", 0);
  // Defaults must fit their field's type (for a union, its first branch). One budget for all
  // of them, without the per-node part: a schema can have many fields whose defaults each waste
  // almost a budget, and real defaults are small.
  EncodeBudget budget(kBaseWastedSteps);
  for (const auto& node : impl->nodes) {
    for (const auto& field : node->fields) {
      if (!field.default_value) continue;
      const Node& target =
          field.type->type == Type::union_type ? *field.type->branches.front() : *field.type;
      std::string ignored;
      try {
        avro::encode(target, *field.default_value, ignored, Path{}, 0, budget);
      } catch (const ConnectorError& e) {
        schema_error("record '" + node->full_name + "' field '" + field.name +
                     "': the default does not match the field's type" +
                     (budget.exhausted ? " (" + e.message() + ")" : std::string()));
      }
    }
  }
  return Schema(std::move(impl));
}

std::string Schema::encode(const nlohmann::json& value) const {
  std::string out;
  EncodeBudget budget(value);
  avro::encode(*impl_->root, value, out, Path{}, 0, budget);
  return out;
}

nlohmann::json Schema::decode(std::string_view bytes) const {
  Reader in(bytes);
  json value = avro::decode(*impl_->root, in, 0);
  if (!in.at_end()) in.fail("trailing bytes after the value");
  return value;
}

nlohmann::json Schema::decode(std::string_view bytes, const Schema& writer) const {
  Reader in(bytes);
  json value = avro::decode_resolved(*writer.impl_->root, *impl_->root, in, 0);
  if (!in.at_end()) in.fail("trailing bytes after the value");
  return value;
}

nlohmann::json Schema::decode(std::span<const std::uint8_t> bytes) const {
  return decode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string Schema::describe() const {
  const Node& root = *impl_->root;
  if (!root.full_name.empty()) return std::string(type_name(root.type)) + " " + root.full_name;
  return std::string(type_name(root.type));
}

}  // namespace danube::services::avro
