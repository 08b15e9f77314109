#!/usr/bin/env bash
# Runs cpack on a built tree and checks the two Debian packages with dpkg-deb:
#   danube-connect-sdk: every header of the source tree, the static (and shared) libraries, the
#     CMake package, the pkg-config file and danube-embedded-broker; Depends names the package
#     of every library its programs and shared libraries load (found with ldd) and of every
#     third-party header its headers include
#   danube-connectors: every connector of connectors/ as /usr/bin/danube-<name>, with its README
#     and sample configuration; Depends names the package of every library they load
#   deb_package_test.sh <build dir> <work dir> <source dir> <version> <soversion>
#                       <ON|OFF shared libraries> <ON|OFF connectors>
set -euo pipefail
build=$1 work=$2 source=$3 version=$4 soversion=$5 shared=$6 connectors=$7
failures=0
fail() {
  echo "deb_package_test: FAILED: $*" >&2
  failures=$((failures + 1))
}
command -v dpkg-shlibdeps >/dev/null ||
  { echo "deb_package_test: dpkg-shlibdeps missing: install dpkg-dev (scripts/setup.sh)" >&2; exit 1; }

rm -rf "$work" && mkdir -p "$work"
cpack --config "$build/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# The package names in a Depends field, without versions.
depends_of() {
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -e 's/^ *//' -e 's/[ (].*//' | sort -u
}

# Checks the control fields and that every path in the remaining arguments is in the package.
check_package() {
  local deb=$1 name=$2
  shift 2
  [[ -f $deb ]] || { fail "$deb was not made ($(ls "$work/cpack"))"; return; }
  [[ $(dpkg-deb -f "$deb" Package) == "$name" ]] || fail "$deb: Package is not $name"
  [[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "$deb: Version is not $version"
  [[ -n $(dpkg-deb -f "$deb" Maintainer) ]] || fail "$deb: no Maintainer"
  local summary
  summary=$(dpkg-deb -f "$deb" Description)
  summary=${summary%%$'\n'*}
  [[ -n $summary && $summary != *"built using CMake"* ]] ||
    fail "$deb: no Description of its own (summary '$summary')"
  dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | sort >"$work/$name.files"
  local path
  for path in "$@"; do
    grep -qxF "$path" "$work/$name.files" || fail "$name lacks $path"
  done
  echo "deb_package_test: $name: $(wc -l <"$work/$name.files") paths," \
    "Depends: $(dpkg-deb -f "$deb" Depends)"
}

# The package that owns a file, looked up under its path and its merged-/usr twin.
owner_of() {
  local path=$1 owner
  for candidate in "$path" "/usr$path" "${path#/usr}"; do
    if owner=$(dpkg -S "$candidate" 2>/dev/null); then
      sed 's/:.*//' <<<"${owner%%$'\n'*}"
      return
    fi
  done
  echo "?$path"
}

# Whether a Depends list (a file, one name a line) is satisfied by an installed package: it
# names the package or a virtual package it provides (libspdlog1.10 provides
# libspdlog1.10-fmt9, the name its shlibs file gives).
satisfies() {
  local depends=$1 package=$2 name
  grep -qxF "$package" "$depends" && return 0
  for name in $(dpkg-query -W -f='${Provides}' "$package" 2>/dev/null | tr ',' ' ' |
    sed 's/([^)]*)//g'); do
    grep -qxF "$name" "$depends" && return 0
  done
  return 1
}

# The file a NEEDED entry resolves to, from ldd's lines "soname => path (address)" and, for the
# dynamic loader, "path (address)".
resolved_path() {
  ldd "$1" | awk -v lib="$2" '!found && $1 == lib && $2 == "=>" {print $3; found = 1}
    !found && $2 != "=>" && $1 ~ ("/" lib "$") {print $1; found = 1}'
}

# Every library an ELF file of the package loads directly, outside the package, must belong to a
# package Depends names.
check_library_depends() {
  local deb=$1 name=$2 tree=$work/$2.tree
  dpkg-deb -x "$deb" "$tree"
  depends_of "$deb" >"$work/$name.depends"
  local file soname path package
  while read -r file; do
    readelf -h "$file" >/dev/null 2>&1 || continue
    for soname in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      [[ $soname == libdanube_* ]] && continue
      path=$(resolved_path "$file" "$soname")
      [[ -n $path ]] || { fail "$name: ${file#"$tree"} needs $soname, which ldd does not find"; continue; }
      package=$(owner_of "$(realpath "$path")")
      satisfies "$work/$name.depends" "$package" ||
        fail "$name: ${file#"$tree"} loads $soname from $package, which Depends does not name"
    done
  done < <(find "$tree" -type f \( -path '*/bin/*' -o -name '*.so*' \))
}

headers=()
while read -r header; do
  headers+=("/usr/include/$header")
done < <(cd "$source/libdanube_connect/include" && find danube -name '*.hpp'
  cd "$source/actors/include" && find danube -name '*.hpp')
sdk_paths=("${headers[@]}" /usr/include/danube/connect/version.hpp
  /usr/lib/pkgconfig/danube_connect.pc /usr/bin/danube-embedded-broker
  /usr/lib/cmake/danube_connect/danube_connect-config.cmake
  /usr/lib/cmake/danube_connect/danube_connect-config-version.cmake
  /usr/lib/cmake/danube_connect/danube_connect-static-targets.cmake
  /usr/lib/cmake/danube_connect/danube_connect-tools-targets.cmake
  /usr/lib/cmake/danube_connect/FindCAF.cmake)
for library in danube_common danube_proto danube_connect danube_client danube_services \
  danube_testkit danube_runtime; do
  sdk_paths+=("/usr/lib/lib$library.a")
  if [[ $shared == ON ]]; then
    sdk_paths+=("/usr/lib/lib$library.so" "/usr/lib/lib$library.so.$soversion"
      "/usr/lib/lib$library.so.$version")
  fi
done
[[ $shared == ON ]] &&
  sdk_paths+=(/usr/lib/cmake/danube_connect/danube_connect-shared-targets.cmake)
sdk_deb=$work/cpack/danube-connect-sdk_${version}_$arch.deb
check_package "$sdk_deb" danube-connect-sdk "${sdk_paths[@]}"
if [[ -f $sdk_deb ]]; then
  check_library_depends "$sdk_deb" danube-connect-sdk
  grep -q '/usr/bin/danube-\(source\|sink\)-' "$work/danube-connect-sdk.files" &&
    fail "danube-connect-sdk carries connector binaries"
  # Third-party headers the installed headers include.
  while read -r included; do
    [[ -f /usr/include/$included ]] || continue
    package=$(owner_of "/usr/include/$included")
    satisfies "$work/danube-connect-sdk.depends" "$package" ||
      fail "danube-connect-sdk: headers include <$included> from $package, not in Depends"
  done < <(find "$work/danube-connect-sdk.tree/usr/include" -name '*.hpp' -exec \
    sed -n 's/^#include <\(.*\)>.*/\1/p' {} + | sort -u)
fi

if [[ $connectors == ON ]]; then
  connector_paths=()
  for dir in "$source"/connectors/*/; do
    name=$(basename "$dir")
    [[ -f $dir/CMakeLists.txt && $name != common ]] || continue
    connector_paths+=("/usr/bin/danube-$name" "/usr/share/doc/danube-connectors/$name/README.md"
      "/usr/share/doc/danube-connectors/$name/connector.toml")
  done
  connectors_deb=$work/cpack/danube-connectors_${version}_$arch.deb
  check_package "$connectors_deb" danube-connectors "${connector_paths[@]}"
  [[ -f $connectors_deb ]] && check_library_depends "$connectors_deb" danube-connectors
fi

((failures == 0)) || exit 1
echo "deb_package_test: passed"
