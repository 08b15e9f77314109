#include "json_schema.hpp"

#include <cmath>
#include <stdexcept>

namespace danube::webhook {
namespace {

// Self-referencing schemas ("$ref": "#") must not recurse without end on deep payloads.
constexpr int kMaxDepth = 64;

std::string type_of(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

bool has_type(const nlohmann::json& value, const std::string& type) {
  if (type == "number") return value.is_number();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    // 1.0 is an integer in JSON Schema.
    return value.is_number_float() && std::isfinite(value.get<double>()) &&
           std::floor(value.get<double>()) == value.get<double>();
  }
  return type_of(value) == type;
}

std::string child(const std::string& where, const std::string& key) {
  std::string escaped;
  for (const char c : key) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped += c;
    }
  }
  return where + "/" + escaped;
}

std::string shown(const std::string& where) {
  return where.empty() ? "(root)" : where;
}

// The number of code points: JSON Schema lengths count characters, not bytes.
std::size_t utf8_length(const std::string& text) {
  std::size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

void collect_patterns(const nlohmann::json& schema,
                      std::vector<std::pair<std::string, std::regex>>& patterns) {
  if (schema.is_object()) {
    for (const auto& [key, value] : schema.items()) {
      if (key == "pattern" && value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        try {
          patterns.emplace_back(text, std::regex(text, std::regex::ECMAScript));
        } catch (const std::regex_error& error) {
          throw std::invalid_argument("pattern '" + text + "' does not compile: " + error.what());
        }
      } else if (key != "enum" && key != "const" && key != "default" && key != "examples") {
        collect_patterns(value, patterns);
      }
    }
  } else if (schema.is_array()) {
    for (const auto& element : schema)
      collect_patterns(element, patterns);
  }
}

}  // namespace

JsonSchema::JsonSchema(nlohmann::json schema) : root_(std::move(schema)) {
  if (!root_.is_object() && !root_.is_boolean()) {
    throw std::invalid_argument("a JSON Schema must be an object or a boolean");
  }
  collect_patterns(root_, patterns_);
}

std::optional<std::string> JsonSchema::validate(const nlohmann::json& value) const {
  return check(root_, value, "", 0);
}

const nlohmann::json* JsonSchema::resolve(const std::string& reference) const {
  if (reference == "#") return &root_;
  if (!reference.starts_with("#/")) return nullptr;  // remote references are not followed
  try {
    const nlohmann::json::json_pointer pointer(reference.substr(1));
    return root_.contains(pointer) ? &root_.at(pointer) : nullptr;
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

const std::regex& JsonSchema::pattern(const std::string& text) const {
  for (const auto& [source, compiled] : patterns_) {
    if (source == text) return compiled;
  }
  throw std::logic_error("pattern not compiled: " + text);  // collect_patterns saw them all
}

std::optional<std::string> JsonSchema::check(const nlohmann::json& schema,
                                             const nlohmann::json& value, const std::string& where,
                                             int depth) const {
  if (depth > kMaxDepth) return shown(where) + ": schema nesting deeper than 64 levels";
  if (schema.is_boolean()) {
    if (schema.get<bool>()) return std::nullopt;
    return shown(where) + ": not allowed by the schema";
  }
  if (!schema.is_object()) return std::nullopt;

  if (const auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
    if (const auto* target = resolve(ref->get<std::string>())) {
      // draft-07: $ref replaces its siblings.
      return check(*target, value, where, depth + 1);
    }
    return std::nullopt;
  }

  if (const auto type = schema.find("type"); type != schema.end()) {
    bool matches = false;
    std::string expected;
    if (type->is_string()) {
      expected = type->get<std::string>();
      matches = has_type(value, expected);
    } else if (type->is_array()) {
      for (const auto& option : *type) {
        if (!option.is_string()) continue;
        expected += (expected.empty() ? "" : " or ") + option.get<std::string>();
        matches = matches || has_type(value, option.get<std::string>());
      }
    } else {
      matches = true;
    }
    if (!matches) return shown(where) + ": expected " + expected + ", got " + type_of(value);
  }
  if (const auto options = schema.find("enum"); options != schema.end() && options->is_array()) {
    bool found = false;
    for (const auto& option : *options)
      found = found || option == value;
    if (!found) return shown(where) + ": not one of the allowed values " + options->dump();
  }
  if (const auto constant = schema.find("const"); constant != schema.end()) {
    if (*constant != value) return shown(where) + ": must be " + constant->dump();
  }

  if (value.is_object()) {
    if (const auto required = schema.find("required");
        required != schema.end() && required->is_array()) {
      for (const auto& name : *required) {
        if (name.is_string() && !value.contains(name.get<std::string>())) {
          return shown(where) + ": missing required property '" + name.get<std::string>() + "'";
        }
      }
    }
    const auto properties = schema.find("properties");
    const bool has_properties = properties != schema.end() && properties->is_object();
    const auto additional = schema.find("additionalProperties");
    for (const auto& [key, member] : value.items()) {
      const std::string path = child(where, key);
      if (has_properties && properties->contains(key)) {
        if (auto problem = check(properties->at(key), member, path, depth + 1)) return problem;
      } else if (additional != schema.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          return shown(where) + ": property '" + key + "' is not allowed";
        }
        if (auto problem = check(*additional, member, path, depth + 1)) return problem;
      }
    }
  }

  if (value.is_array()) {
    if (const auto items = schema.find("items"); items != schema.end() && items->is_object()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (auto problem = check(*items, value[i], child(where, std::to_string(i)), depth + 1)) {
          return problem;
        }
      }
    }
    if (const auto low = schema.find("minItems"); low != schema.end() &&
                                                  low->is_number_unsigned() &&
                                                  value.size() < low->get<std::size_t>()) {
      return shown(where) + ": fewer than " + low->dump() + " items";
    }
    if (const auto high = schema.find("maxItems"); high != schema.end() &&
                                                   high->is_number_unsigned() &&
                                                   value.size() > high->get<std::size_t>()) {
      return shown(where) + ": more than " + high->dump() + " items";
    }
  }

  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    const std::size_t length = utf8_length(text);
    if (const auto low = schema.find("minLength");
        low != schema.end() && low->is_number_unsigned() && length < low->get<std::size_t>()) {
      return shown(where) + ": shorter than " + low->dump() + " characters";
    }
    if (const auto high = schema.find("maxLength");
        high != schema.end() && high->is_number_unsigned() && length > high->get<std::size_t>()) {
      return shown(where) + ": longer than " + high->dump() + " characters";
    }
    if (const auto regex = schema.find("pattern"); regex != schema.end() && regex->is_string()) {
      if (!std::regex_search(text, pattern(regex->get<std::string>()))) {
        return shown(where) + ": does not match the pattern " + regex->dump();
      }
    }
  }

  if (value.is_number()) {
    const double number = value.get<double>();
    auto bound = [&](const char* keyword) -> std::optional<double> {
      const auto found = schema.find(keyword);
      if (found == schema.end() || !found->is_number()) return std::nullopt;
      return found->get<double>();
    };
    if (const auto low = bound("minimum"); low && number < *low) {
      return shown(where) + ": less than the minimum " + schema["minimum"].dump();
    }
    if (const auto high = bound("maximum"); high && number > *high) {
      return shown(where) + ": greater than the maximum " + schema["maximum"].dump();
    }
    if (const auto low = bound("exclusiveMinimum"); low && number <= *low) {
      return shown(where) + ": not greater than " + schema["exclusiveMinimum"].dump();
    }
    if (const auto high = bound("exclusiveMaximum"); high && number >= *high) {
      return shown(where) + ": not less than " + schema["exclusiveMaximum"].dump();
    }
    if (const auto step = bound("multipleOf"); step && *step > 0) {
      const double quotient = number / *step;
      if (std::fabs(quotient - std::round(quotient)) > 1e-9) {
        return shown(where) + ": not a multiple of " + schema["multipleOf"].dump();
      }
    }
  }

  if (const auto all = schema.find("allOf"); all != schema.end() && all->is_array()) {
    for (const auto& part : *all) {
      if (auto problem = check(part, value, where, depth + 1)) return problem;
    }
  }
  if (const auto any = schema.find("anyOf"); any != schema.end() && any->is_array()) {
    bool matched = false;
    for (const auto& part : *any)
      matched = matched || !check(part, value, where, depth + 1);
    if (!matched) return shown(where) + ": matches none of anyOf";
  }
  if (const auto one = schema.find("oneOf"); one != schema.end() && one->is_array()) {
    int matched = 0;
    for (const auto& part : *one)
      matched += check(part, value, where, depth + 1) ? 0 : 1;
    if (matched != 1) {
      return shown(where) + ": matches " + std::to_string(matched) + " of oneOf (must be 1)";
    }
  }
  if (const auto negated = schema.find("not"); negated != schema.end()) {
    if (!check(*negated, value, where, depth + 1)) {
      return shown(where) + ": matches a schema it must not match";
    }
  }
  return std::nullopt;
}

}  // namespace danube::webhook
