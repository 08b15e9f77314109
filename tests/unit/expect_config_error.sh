#!/bin/sh
# Runs a connector binary with an empty environment (so no configuration at all) and expects
# what every connector does then: exit code 2 and a message naming DANUBE_SERVICE_URL.
# Usage: expect_config_error.sh <connector binary>
output=$(env -i "$1" 2>&1)
code=$?
printf '%s\n' "$output"
if [ "$code" -ne 2 ]; then
  echo "expected exit code 2, got $code"
  exit 1
fi
if ! printf '%s\n' "$output" | grep -q DANUBE_SERVICE_URL; then
  echo "expected the message to name DANUBE_SERVICE_URL"
  exit 1
fi
