#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace danube::test {

// How many threads of process `pid` carry `name` (/proc/<pid>/task/*/comm; Linux keeps 15
// characters of a name).
std::size_t threads_named(pid_t pid, const std::string& name);

}  // namespace danube::test
