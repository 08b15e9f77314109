#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace danube {

// The deepest nesting of JSON arrays and objects accepted from outside input: payloads, schema
// definitions, schema registry requests. `[]` is one level, `[[]]` two. Danube's broker parses
// JSON with serde_json, whose default recursion limit is also 128.
//
// Why a limit: nlohmann::json parses iteratively, but copying, comparing and dumping a document
// recurse once per level, so a few hundred kilobytes of "[[[[..." overflow the stack. The check
// therefore runs on the text, before any document exists.
inline constexpr std::size_t kMaxJsonNestingDepth = 128;

// "JSON nesting deeper than 128 levels", for error messages.
inline std::string json_nesting_error() {
  return "JSON nesting deeper than " + std::to_string(kMaxJsonNestingDepth) + " levels";
}

// True when arrays and objects in `text` nest deeper than kMaxJsonNestingDepth.
//
// A bracket count that skips the contents of strings (escapes included) and validates nothing
// else. It never counts less than a JSON parser would nest: up to the first syntax error the
// two agree, and a parser stops there. A closing bracket without an opening one is ignored.
inline bool json_nesting_exceeds_limit(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > kMaxJsonNestingDepth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace danube
