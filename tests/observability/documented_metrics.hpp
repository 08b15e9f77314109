#pragma once

// The runtime's metrics as docs/observability.md lists them: its table's rows
// "| `danube_connector_<name>` | <type> | ...".
//
// Parsed by hand rather than with std::regex: GCC 12 reports a false
// -Wmaybe-uninitialized inside <regex> under the ASan preset's -O1.
#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

namespace danube::observability_test {

// The length of the run of characters at the start of `text` that `allowed`
// accepts.
template <typename Allowed>
std::size_t leading_run(std::string_view text, Allowed allowed) {
  return static_cast<std::size_t>(std::find_if_not(text.begin(), text.end(), allowed) -
                                  text.begin());
}

// A table row's metric family and type, or an empty name when `line` is not
// such a row.
inline std::pair<std::string, std::string> documented_row(std::string_view line) {
  constexpr std::string_view kCellOpening = "| `";
  constexpr std::string_view kFamilyPrefix = "danube_connector_";
  constexpr std::string_view kBetween = "` | ";
  constexpr std::string_view kClosing = " |";
  if (!line.starts_with(kCellOpening)) return {};
  const auto family = line.substr(kCellOpening.size());
  if (!family.starts_with(kFamilyPrefix)) return {};
  const auto suffix_length = leading_run(family.substr(kFamilyPrefix.size()), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (suffix_length == 0) return {};
  const auto family_length = kFamilyPrefix.size() + suffix_length;
  auto rest = family.substr(family_length);
  if (!rest.starts_with(kBetween)) return {};
  rest.remove_prefix(kBetween.size());
  const auto type_length = leading_run(rest, [](char c) { return c >= 'a' && c <= 'z'; });
  if (type_length == 0 || !rest.substr(type_length).starts_with(kClosing)) return {};
  return {std::string(family.substr(0, family_length)), std::string(rest.substr(0, type_length))};
}

inline std::map<std::string, std::string> documented_metric_families() {
  std::ifstream page(std::string(DANUBE_SOURCE_DIR) + "/docs/observability.md");
  std::map<std::string, std::string> families;
  std::string line;
  while (std::getline(page, line)) {
    auto [name, type] = documented_row(line);
    if (!name.empty()) families[std::move(name)] = std::move(type);
  }
  return families;
}

}  // namespace danube::observability_test
