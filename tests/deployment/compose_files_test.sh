#!/bin/sh
# Every Docker Compose file of the repository passes check_compose.py; compose/docker-compose.yml
# must also have a service for every connector.
# Usage: compose_files_test.sh SOURCE_DIR BUILD_DIR
set -eu
source_dir=$1
build_dir=$2
files=$(find "$source_dir" \( -name .git -o -name 'build' -o -name 'build-*' -o -name target \) \
          -prune -o -type f \( -name '*compose*.yml' -o -name '*compose*.yaml' \) -print | sort)
[ -n "$files" ] || { echo "no compose file found under $source_dir"; exit 1; }

status=0
count=0
for file in $files; do
  count=$((count + 1))
  every=""
  [ "$file" -ef "$source_dir/compose/docker-compose.yml" ] && every=--require-every-connector
  "$source_dir/tests/deployment/check_compose.py" --source-dir "$source_dir" \
    --build-dir "$build_dir" $every "$file" || status=1
done
echo "$count compose files checked"
exit $status
