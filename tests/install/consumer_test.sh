#!/usr/bin/env bash
# Builds the out-of-tree project in consumer/ against an installed SDK (found by find_package
# through CMAKE_PREFIX_PATH) and runs it: the author-API program, the sink's --version, and the
# sink against the embedded broker (delivery_check). Then checks how the programs were linked.
#   consumer_test.sh <static|shared> <prefix> <build dir> <sdk version> <soversion>
#                    <c++ compiler> <c++ flags> <exe linker flags>
set -euo pipefail
flavour=$1 prefix=$2 build=$3 version=$4 soversion=$5 compiler=$6 cxx_flags=$7 linker_flags=$8
source_dir=$(cd "$(dirname "$0")/consumer" && pwd)

fail() {
  echo "consumer_test: FAILED: $*" >&2
  exit 1
}
[[ -d $prefix ]] || fail "no SDK installed in $prefix (the sdk_install_setup test installs it)"
use_shared=OFF
[[ $flavour == shared ]] && use_shared=ON

rm -rf "$build"
cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_CXX_FLAGS="$cxx_flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$linker_flags" -DDANUBE_SDK_VERSION="$version" \
  -Ddanube_connect_USE_SHARED_LIBS="$use_shared"
found_in=$(sed -n 's/^danube_connect_DIR:PATH=//p' "$build/CMakeCache.txt")
[[ $found_in == "$prefix"/* ]] || fail "find_package found the SDK in $found_in, not in $prefix"
cmake --build "$build" -j2

"$build/author_api_check" || fail "author_api_check"
"$build/tally_sink" --version | tee "$build/version.txt"
grep -q "$version" "$build/version.txt" || fail "tally_sink --version does not name $version"
"$prefix/bin/danube-embedded-broker" --help >/dev/null || fail "danube-embedded-broker --help"
# From the build directory: the sink keeps its offset files in its working directory, and each
# run starts from a fresh one.
(cd "$build" && ./delivery_check 200) || fail "delivery_check"

# How the programs were linked: the static flavour puts the SDK into the program, the shared one
# loads it from the prefix's libraries by SONAME.
needed=$(readelf -d "$build/tally_sink" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [[ $flavour == static ]]; then
  if grep -q '^libdanube_' <<<"$needed"; then fail "static tally_sink needs $(grep libdanube_ <<<"$needed")"; fi
else
  for library in libdanube_runtime libdanube_connect; do
    grep -qx "$library.so.$soversion" <<<"$needed" || fail "tally_sink does not need $library.so.$soversion"
  done
  while read -r soname _ path _; do
    [[ $(realpath "$path") == "$(realpath "$prefix")"/* ]] || fail "$soname loads from $path"
  done < <(ldd "$build/delivery_check" | grep 'libdanube_')
  ldd "$build/delivery_check" | grep 'libdanube_'
fi
echo "consumer_test: $flavour flavour passed"
