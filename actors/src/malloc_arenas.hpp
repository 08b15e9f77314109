#pragma once

// The run helpers' bound on glibc's malloc arenas. glibc gives threads that contend for the heap
// arenas of their own, up to 8 per core, and what is freed in one arena is not reused by threads
// allocating in another: a connector's gRPC, reader and actor threads allocate and free each
// other's messages, so a draining sink held more memory at its peak with glibc's default than
// with 2 arenas, and drained no faster (docs/operating.md has the figures). Only the run helpers
// set it: an application that embeds the runtime without them keeps its own allocator settings.
#include <string>

namespace danube::runtime {

inline constexpr int kRunHelperMallocArenas = 2;

// What limits the arenas of this process, for the start log.
struct MallocArenaLimit {
  // "run_helpers", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES", or "unchanged" when the allocator
  // did not take the setting (another malloc loaded).
  std::string source;
  std::string value;  // as set; empty for "unchanged"
};

// Limits the arenas to kRunHelperMallocArenas with mallopt(M_ARENA_MAX), unless the environment
// sets the limit already (MALLOC_ARENA_MAX, or glibc.malloc.arena_max in GLIBC_TUNABLES): glibc
// reads that itself at start and it is left alone. Call it before the process starts threads.
MallocArenaLimit limit_malloc_arenas();

}  // namespace danube::runtime
