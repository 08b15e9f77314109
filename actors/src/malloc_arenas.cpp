#include "malloc_arenas.hpp"

#include <malloc.h>

#include <cstdlib>
#include <optional>
#include <string_view>

namespace danube::runtime {
namespace {

// The arena limit the environment gives glibc, if any. Any value counts, even one glibc rejects:
// the operator asked for glibc's reading of it, not ours.
std::optional<MallocArenaLimit> limit_in_environment() {
  if (const char* value = std::getenv("MALLOC_ARENA_MAX"); value != nullptr) {
    return MallocArenaLimit{"MALLOC_ARENA_MAX", value};
  }
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables == nullptr) return std::nullopt;
  // name=value pairs separated by colons.
  constexpr std::string_view kArenaMax = "glibc.malloc.arena_max=";
  std::string_view rest = tunables;
  while (!rest.empty()) {
    const auto end = rest.find(':');
    const std::string_view tunable = rest.substr(0, end);
    if (tunable.starts_with(kArenaMax)) {
      return MallocArenaLimit{"GLIBC_TUNABLES", std::string(tunable.substr(kArenaMax.size()))};
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return std::nullopt;
}

}  // namespace

MallocArenaLimit limit_malloc_arenas() {
  if (auto set = limit_in_environment()) return *set;
  // mallopt answers 1 when the allocator took the setting; an allocator other than glibc's
  // (preloaded, or a sanitizer's) may not.
  if (mallopt(M_ARENA_MAX, kRunHelperMallocArenas) != 1) return {"unchanged", ""};
  return {"run_helpers", std::to_string(kRunHelperMallocArenas)};
}

}  // namespace danube::runtime
