#!/bin/sh
# compose/runtime-packages.txt, the runtime image's library packages, must equal what the
# binaries compose/Dockerfile installs load (runtime_packages.sh on the same binaries built here).
# Usage: runtime_packages_test.sh SOURCE_DIR BUILD_DIR
set -eu
source_dir=$1
build_dir=$2
dockerfile=$source_dir/compose/Dockerfile
list=$source_dir/compose/runtime-packages.txt

grep -q '^COPY compose/runtime-packages.txt ' "$dockerfile" ||
  { echo "compose/Dockerfile does not install compose/runtime-packages.txt"; exit 1; }

# The binaries the image gets: the Dockerfile's /build/<path> arguments, built here as
# <build dir>/<path>.
binaries=""
for path in $(grep -o '/build/[A-Za-z0-9_./-]*' "$dockerfile" | sort -u); do
  binary=$build_dir/${path#/build/}
  [ -x "$binary" ] || { echo "$binary (compose/Dockerfile's $path) is not built"; exit 1; }
  binaries="$binaries $binary"
done
[ -n "$binaries" ] || { echo "compose/Dockerfile installs no binaries from /build"; exit 1; }

derived=$(mktemp)
listed=$(mktemp)
trap 'rm -f "$derived" "$listed"' EXIT
# shellcheck disable=SC2086 # one argument per binary
"$source_dir/tests/deployment/runtime_packages.sh" $binaries > "$derived"
grep -v -e '^#' -e '^$' "$list" | sort > "$listed"
if ! diff -u "$listed" "$derived"; then
  echo "compose/runtime-packages.txt (-) differs from the binaries' libraries (+); regenerate it"
  echo "with tests/deployment/runtime_packages.sh (the command is in the file's header)"
  exit 1
fi
echo "$(wc -l < "$derived") runtime packages match the libraries of:$binaries"
