#pragma once

// The metric names a PromQL expression selects, found the way PromQL reads them: an identifier
// outside label matchers, ranges, strings and grouping lists that is neither a function or
// aggregation (followed by "(") nor a keyword.
#include <cctype>
#include <set>
#include <string>

namespace danube::observability_test {

namespace promql_detail {

// `text` without what lies between `open` and its matching `close` (both included).
inline std::string without_groups(const std::string& text, char open, char close) {
  std::string kept;
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (depth > 0 && (c == '"' || c == '\'')) {
      quote = c;
    } else if (c == open) {
      ++depth;
    } else if (c == close && depth > 0) {
      --depth;
    } else if (depth == 0) {
      kept += c;
    }
  }
  return kept;
}

inline bool is_identifier_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
inline bool is_identifier_char(char c) {
  return is_identifier_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

}  // namespace promql_detail

inline std::set<std::string> promql_metric_names(const std::string& expression) {
  using namespace promql_detail;
  // Keywords, and the aggregation operators, which may come before their "(" ("sum by (x) (...)").
  static const std::set<std::string> keywords = {
      "by",    "without",      "on",      "ignoring", "group_left", "group_right", "offset",
      "bool",  "and",          "or",      "unless",   "inf",        "nan",         "atan2",
      "sum",   "min",          "max",     "avg",      "group",      "stddev",      "stdvar",
      "count", "count_values", "bottomk", "topk",     "quantile"};
  static const std::set<std::string> grouping = {"by",       "without",    "on",
                                                 "ignoring", "group_left", "group_right"};
  // Label matchers and ranges first (they may hold strings and Grafana variables).
  std::string text = without_groups(without_groups(expression, '{', '}'), '[', ']');
  // Strings left outside matchers (e.g. label_replace's arguments).
  std::string unquoted;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (quote) {
      if (text[i] == '\\')
        ++i;
      else if (text[i] == quote)
        quote = 0;
    } else if (text[i] == '"' || text[i] == '\'') {
      quote = text[i];
    } else {
      unquoted += text[i];
    }
  }
  std::set<std::string> names;
  std::size_t i = 0;
  while (i < unquoted.size()) {
    const char c = unquoted[i];
    // A number ("0.99", "1e3") or a Grafana variable ("$__range"): not a name.
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '$') {
      ++i;
      while (i < unquoted.size() && (is_identifier_char(unquoted[i]) || unquoted[i] == '.'))
        ++i;
      continue;
    }
    if (!is_identifier_start(c)) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < unquoted.size() && is_identifier_char(unquoted[i]))
      ++i;
    const std::string word = unquoted.substr(start, i - start);
    std::size_t next = i;
    while (next < unquoted.size() && std::isspace(static_cast<unsigned char>(unquoted[next])))
      ++next;
    const bool called = next < unquoted.size() && unquoted[next] == '(';
    if (grouping.count(word) && called) {
      // A label list, not names of series: skip to its ")".
      i = unquoted.find(')', next);
      i = i == std::string::npos ? unquoted.size() : i + 1;
      continue;
    }
    if (!called && !keywords.count(word)) names.insert(word);
  }
  return names;
}

}  // namespace danube::observability_test
