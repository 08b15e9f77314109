#!/bin/sh
# The author API's boundaries, checked on the sources:
#  1. the headers a connector author includes (danube/connect/connect.hpp and everything it
#     pulls in) include no CAF, gRPC, protobuf, spdlog, fmt or prometheus header;
#  2. each enum of the shared vocabulary is defined exactly once in the tree.
# Usage: author_api_boundaries.sh <c++ compiler> <source dir> <generated include dir>
set -eu
compiler=$1
source_dir=$2
generated=$3
status=0

headers=$(printf '#include "danube/connect/connect.hpp"\n' |
  "$compiler" -std=c++20 -M -x c++ - -I"$source_dir/libdanube_connect/include" -I"$generated")
forbidden=$(printf '%s\n' "$headers" | tr ' ' '\n' | grep -E '/(caf|grpc|grpcpp|google/protobuf|spdlog|fmt|prometheus)/' || true)
if [ -n "$forbidden" ]; then
  echo "danube/connect/connect.hpp pulls in headers the author API must not depend on:"
  printf '%s\n' "$forbidden" | sort -u
  status=1
fi

for enum in SubscriptionType Dispatch Ordering SchemaType ErrorCategory SendStatus; do
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
