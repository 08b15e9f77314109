#!/usr/bin/env bash
# The whole test suite: installs what it needs, configures, builds with -j2 and runs ctest.
#   scripts/test.sh                 # dev preset (RelWithDebInfo)
#   PRESET=asan scripts/test.sh     # or release / tsan
#   scripts/test.sh -L broker       # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${PRESET:-dev}
scripts/setup.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j2
ctest --preset "$preset" "$@"
