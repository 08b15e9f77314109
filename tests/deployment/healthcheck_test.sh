#!/bin/sh
# compose/healthcheck.sh (the image's danube-connect-healthcheck) succeeds on a running
# connector's /health and fails on a closed port and on an HTTP server that answers 404.
# The connector is simple_sink pointed at a broker address where nothing listens: /health is
# live without a broker (only /ready needs one).
# Usage: healthcheck_test.sh SOURCE_DIR SIMPLE_SINK
set -eu
healthcheck=$1/compose/healthcheck.sh
simple_sink=$2
work=$(mktemp -d)
pids=""
cleanup() {
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Waits until the pattern appears in the file (a log line), at most 60 s.
wait_for_line() {
  waited=0
  until grep -q "$2" "$1"; do
    [ $waited -lt 600 ] || { echo "no '$2' in $1 after 60 s:"; cat "$1"; exit 1; }
    sleep 0.1
    waited=$((waited + 1))
  done
}

cat > "$work/sink.toml" <<TOML
danube_service_url = "http://127.0.0.1:1"
connector_name = "healthcheck-test"
[processing]
metrics_port = 0
[offsets]
state_dir = "$work/state"
[simple_sink]
topic = "/default/healthcheck"
TOML
"$simple_sink" --config "$work/sink.toml" > "$work/sink.log" 2>&1 &
sink_pid=$!
pids="$pids $sink_pid"
wait_for_line "$work/sink.log" 'event=http_server_started'
port=$(sed -n 's/.*event=http_server_started .*port=\([0-9]*\).*/\1/p' "$work/sink.log")

status=0
if output=$("$healthcheck" "$port" 2>&1); then
  echo "ok: a running connector is healthy ($output)"
else
  echo "FAIL: the healthcheck failed on a running connector's port $port: $output"
  status=1
fi

kill "$sink_pid"
wait "$sink_pid" || true
if output=$("$healthcheck" "$port" 2>&1); then
  echo "FAIL: the healthcheck passed on port $port after the connector stopped: $output"
  status=1
else
  echo "ok: the stopped connector's port $port is unhealthy"
fi

mkdir "$work/www"
/usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$work/www" > "$work/http.log" 2>&1 &
pids="$pids $!"
wait_for_line "$work/http.log" 'Serving HTTP on'
http_port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$work/http.log")
if output=$("$healthcheck" "$http_port" 2>&1); then
  echo "FAIL: the healthcheck passed on a server without /health: $output"
  status=1
else
  echo "ok: a server answering '$output' is unhealthy"
fi
exit $status
