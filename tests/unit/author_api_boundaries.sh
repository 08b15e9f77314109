#!/bin/sh
# The author API's boundaries, checked on the sources:
#  1. every header a connector author includes (danube/connect/*.hpp and everything they pull
#     in) depends on the standard library, nlohmann-json and danube/common only;
#  2. each enum of the shared vocabulary is defined exactly once in the tree.
# Usage: author_api_boundaries.sh <c++ compiler> <source dir> <generated include dir>
set -eu
compiler=$1
source_dir=$2
generated=$3
status=0

# Every author header, alone: its include closure may hold only the standard and C libraries,
# nlohmann-json and danube/common + danube/connect (so no CAF, gRPC, protobuf, spdlog, fmt,
# prometheus, toml++, nor the client's, the services' or the runtime's headers).
for header in "$source_dir"/libdanube_connect/include/danube/connect/*.hpp; do
  name=danube/connect/$(basename "$header")
  closure=$(printf '#include "%s"\n' "$name" |
    "$compiler" -std=c++20 -M -x c++ - -I"$source_dir/libdanube_connect/include" -I"$generated" |
    tr ' ' '\n' | grep -v -e '^-:$' -e '^\\$' -e '^$' || true)
  outside=$(printf '%s\n' "$closure" | grep -v -E \
    -e '^/usr/include/c\+\+/' -e '^/usr/include/x86_64-linux-gnu/' -e '^/usr/lib/gcc/' \
    -e '^/usr/include/[^/]+\.h$' -e '^/usr/include/(linux|asm|asm-generic|bits|sys)/' \
    -e '^/usr/include/nlohmann/' \
    -e '/libdanube_connect/include/danube/(common|connect)/[^/]+\.hpp$' \
    -e '/generated/include/danube/connect/version\.hpp$' || true)
  if [ -n "$outside" ]; then
    echo "$name pulls in headers the author API must not depend on:"
    printf '%s\n' "$outside" | sort -u
    status=1
  fi
done

for enum in SubscriptionType Dispatch Ordering SchemaType ErrorCategory SendStatus LogLevel; do
  definitions=$(grep -rE --include='*.hpp' --include='*.cpp' "enum class $enum\b" \
    "$source_dir/libdanube_connect" "$source_dir/actors" "$source_dir/examples" || true)
  count=$(printf '%s' "$definitions" | grep -c . || true)
  if [ "$count" -ne 1 ]; then
    echo "enum $enum is defined $count times (expected once):"
    printf '%s\n' "$definitions"
    status=1
  fi
done

[ "$status" -eq 0 ] && echo "author API boundaries hold"
exit "$status"
