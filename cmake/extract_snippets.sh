#!/bin/sh
# Writes the code blocks of a Markdown file that are marked for compilation to files, so tests
# compile the documentation's code itself rather than a copy of it. A block is marked by an
# HTML comment on the line before its opening fence:
#
#   <!-- snippet: author_guide_sink.inc -->
#   ```cpp
#   ...
#   ```
#
# Usage: extract_snippets.sh <markdown file> <output dir> <expected snippet>...
# Fails when an expected snippet is missing or a block is not closed. A file is rewritten only
# when its content changed, so unchanged snippets do not rebuild anything.
set -eu
markdown=$1
out=$2
shift 2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
awk -v dir="$scratch" '
  current != "" && /^```[ ]*$/ { close(dir "/" current); current = ""; next }
  current != "" { print > (dir "/" current); next }
  /^<!-- snippet: [A-Za-z0-9_.-]+ -->$/ { pending = $3; next }
  pending != "" && /^```cpp[ ]*$/ { current = pending; pending = ""; printf "" > (dir "/" current); next }
  { pending = "" }
  END { if (current != "") { print FILENAME ": snippet " current " has no closing fence" > "/dev/stderr"; exit 1 } }
' "$markdown"
mkdir -p "$out"
for name in "$@"; do
  if [ ! -f "$scratch/$name" ]; then
    echo "$markdown: no snippet named $name" >&2
    exit 1
  fi
  if ! cmp -s "$scratch/$name" "$out/$name"; then cp "$scratch/$name" "$out/$name"; fi
done
