#!/usr/bin/env bash
# Builds pkg_config_program.cpp with pkg-config against the installed SDK and runs it
# (--version, and --check-config on a configuration without a broker URL, which must exit 2):
# statically linked against the static-only prefix (pkg-config --static, which must name every
# library the SDK's static libraries use), and against the shared libraries of the full prefix.
#   pkg_config_test.sh <static prefix> <full prefix, or "" without shared libraries> <work dir>
#                      <version> <soversion> <c++ compiler> <c++ flags>
set -euo pipefail
static_prefix=$1 full_prefix=$2 work=$3 version=$4 soversion=$5 compiler=$6 cxx_flags=$7
program=$(dirname "$0")/pkg_config_program.cpp
fail() {
  echo "pkg_config_test: FAILED: $*" >&2
  exit 1
}
rm -rf "$work" && mkdir -p "$work"

# Runs a built program the way a user would check it.
run_program() {
  local binary=$1
  "$binary" --version | tee "$work/version.txt"
  grep -q "$version" "$work/version.txt" || fail "$binary --version does not name $version"
  printf 'connector_name = "discard"\n' >"$work/no_url.toml"
  local code=0
  env -u DANUBE_SERVICE_URL -u CONNECTOR_CONFIG_PATH "$binary" --check-config --config "$work/no_url.toml" || code=$?
  ((code == 2)) || fail "$binary --check-config without a broker URL exited $code, not 2"
}

export PKG_CONFIG_PATH=$static_prefix/lib/pkgconfig
[[ $(pkg-config --modversion danube_connect) == "$version" ]] || fail "pkg-config --modversion"
read -ra cflags <<<"$(pkg-config --cflags danube_connect)"
read -ra static_libs <<<"$(pkg-config --static --libs danube_connect)"
echo "pkg_config_test: cflags ${cflags[*]}"
echo "pkg_config_test: static libs ${static_libs[*]}"
read -ra extra_flags <<<"$cxx_flags"
"$compiler" "${extra_flags[@]}" "${cflags[@]}" -c "$program" -o "$work/program.o"
"$compiler" "${extra_flags[@]}" "$work/program.o" -o "$work/program_static" "${static_libs[@]}"
if grep -q 'NEEDED.*libdanube_' <<<"$(readelf -d "$work/program_static")"; then
  fail "the statically linked program needs a shared SDK library"
fi
run_program "$work/program_static"

if [[ -n $full_prefix ]]; then
  export PKG_CONFIG_PATH=$full_prefix/lib/pkgconfig
  read -ra shared_libs <<<"$(pkg-config --libs danube_connect)"
  echo "pkg_config_test: shared libs ${shared_libs[*]}"
  "$compiler" "${extra_flags[@]}" "$work/program.o" -o "$work/program_shared" "${shared_libs[@]}"
  grep -q "NEEDED.*\[libdanube_runtime.so.$soversion\]" <<<"$(readelf -d "$work/program_shared")" ||
    fail "the shared program does not need libdanube_runtime.so.$soversion"
  LD_LIBRARY_PATH=$full_prefix/lib run_program "$work/program_shared"
fi
echo "pkg_config_test: passed"
