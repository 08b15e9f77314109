#!/usr/bin/env bash
# Installs the SDK from a build tree into the temporary prefixes the other tests of this folder
# build against (cmake --install copies what the build made; it builds nothing):
#   <work>/static   the sdk component: headers, static libraries, CMake package, pkg-config file
#   <work>/full     the same (hard links, no second copy) plus the sdk_shared component
#   install_sdk.sh <build dir> <work dir> <ON|OFF: shared libraries built>
set -euo pipefail
build_dir=$1 work=$2 shared=$3

rm -rf "$work/static" "$work/full"
cmake --install "$build_dir" --prefix "$work/static" --component sdk >/dev/null
echo "install_sdk: $(find "$work/static" -type f | wc -l) files in $work/static"
if [[ $shared == ON ]]; then
  cp -al "$work/static" "$work/full"
  cmake --install "$build_dir" --prefix "$work/full" --component sdk_shared >/dev/null
  echo "install_sdk: $(find "$work/full" -type f | wc -l) files in $work/full"
fi
