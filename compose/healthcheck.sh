#!/bin/bash
# The connector image's healthcheck: GET /health on the connector's metrics port and succeed only
# on 200 (the runtime answers 503 when the connector is not live). Bash's /dev/tcp does the
# request, so the slim image needs no HTTP client just for this.
# Usage: danube-connect-healthcheck [PORT]   (default 9090, the runtime's processing.metrics_port)
set -u
port=${1:-9090}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r -t 5 status_line <&3 || exit 1
status_line=${status_line%$'\r'}
echo "$status_line"
[[ $status_line =~ ^HTTP/1\.[01]\ 200( |$) ]]
