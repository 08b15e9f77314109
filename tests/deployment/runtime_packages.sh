#!/bin/sh
# Prints the Debian packages that hold the shared libraries the given binaries load directly
# (their DT_NEEDED entries, found where ldd resolves them, owner from dpkg -S), one a line,
# sorted. apt installs what those libraries load in turn, so this is the runtime image's list.
# Usage: runtime_packages.sh BINARY...
set -eu
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 64; }

owner_of() {
  # Debian 12 merges /lib into /usr/lib; dpkg knows each file under one of the two names.
  for candidate in "$1" "$(readlink -f "$1")" "/usr$1" "${1#/usr}"; do
    owner=$(dpkg -S "$candidate" 2>/dev/null | head -n 1) || continue
    [ -n "$owner" ] && { printf '%s\n' "${owner%%:*}"; return 0; }
  done
  return 1
}

status=0
paths=""
for binary in "$@"; do
  resolved=$(ldd "$binary")
  for library in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(printf '%s\n' "$resolved" | awk -v lib="$library" '$1 == lib && $2 == "=>" { print $3 }')
    if [ -z "$path" ]; then
      # The dynamic loader itself is listed by its absolute path only.
      path=$(printf '%s\n' "$resolved" | awk -v lib="$library" '$1 ~ ("/" lib "$") { print $1 }')
    fi
    if [ -z "$path" ]; then
      echo "$binary: $library is not found" >&2
      status=1
    fi
    paths="$paths$path
"
  done
done

# Each library once: the binaries share most of them, and dpkg -S is slow.
packages=""
for path in $(printf '%s' "$paths" | sort -u); do
  if package=$(owner_of "$path"); then
    packages="$packages$package
"
  else
    echo "$path belongs to no Debian package" >&2
    status=1
  fi
done
printf '%s' "$packages" | sort -u
exit $status
