#!/usr/bin/env bash
# The demo pipeline: builds everything, starts the embedded Danube-compatible broker, runs the
# example sink and source against it, prints what flowed, the throughput and where /metrics is,
# then stops everything with SIGTERM (a clean drain).
#
#   scripts/demo.sh               # 100000 messages
#   COUNT=20000 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

count=${COUNT:-100000}
partitions=4
# Unacked messages the broker lets each subscription have in flight. Danube defaults to 10
# (dispatch.max_unacked_messages); a wider window lets the sink pipeline batch.
max_unacked=${MAX_UNACKED:-1000}
scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j2 --target danube-embedded-broker simple_source simple_sink
build=build/dev

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Waits until `file` contains `pattern` (the processes announce themselves in their logs).
wait_for() {
  local file=$1 pattern=$2
  for _ in $(seq 300); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: timed out waiting for '$pattern' in $file" >&2
  cat "$file" >&2
  exit 1
}
http_port() { sed -n 's/.*event=http_listening address=[^ ]*:\([0-9]*\) .*/\1/p' "$1" | head -1; }
processed() {
  curl -s "http://127.0.0.1:$1/metrics" |
    awk '/^danube_connector_messages_processed_total/ { sum += $2 } END { printf "%d", sum }'
}

# The topic exists before the sink subscribes: Danube starts new subscriptions at the newest
# message, so a sink subscribing after the first publishes would miss them.
"$build/libdanube_connect/src/testkit/danube-embedded-broker" --listen 127.0.0.1:0 \
  --topic "/default/demo:partitions=$partitions" --max-unacked "$max_unacked" --log-level warn >"$work/broker.out" 2>&1 &
pids+=($!)
wait_for "$work/broker.out" "listening on"
broker=$(sed -n 's/.*listening on \(.*\)/\1/p' "$work/broker.out")

cat >"$work/sink.toml" <<TOML
danube_service_url = "http://$broker"
connector_name = "demo-sink"
[processing]
metrics_port = 0
batch_size = 1000
batch_timeout_ms = 100
[simple_sink]
topic = "/default/demo"
subscription = "demo-sub"
print_every = $((count / 5))
[offsets]
state_dir = "$work/state"
TOML
cat >"$work/source.toml" <<TOML
danube_service_url = "http://$broker"
connector_name = "demo-source"
[processing]
metrics_port = 0
[offsets]
state_dir = "$work/state"
[simple_source]
topic = "/default/demo"
message_count = $count
batch_size = 1000
interval_ms = 0
partitions = $partitions
keys = 64
TOML

CONNECTOR_CONFIG_PATH="$work/sink.toml" "$build/examples/simple_sink" >"$work/sink.out" 2>"$work/sink.log" &
sink_pid=$!
pids+=($sink_pid)
wait_for "$work/sink.log" "event=runtime_running"
sink_port=$(http_port "$work/sink.log")

start=$(date +%s.%N)
CONNECTOR_CONFIG_PATH="$work/source.toml" "$build/examples/simple_source" >"$work/source.out" 2>"$work/source.log" &
source_pid=$!
pids+=($source_pid)
wait_for "$work/source.log" "event=runtime_running"
source_port=$(http_port "$work/source.log")

done_count=0
for _ in $(seq 1200); do
  done_count=$(processed "$sink_port")
  [[ "$done_count" -ge "$count" ]] && break
  sleep 0.1
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc)

echo
echo "== What the sink printed (one record in $((count / 5))) =="
grep '^record' "$work/sink.out" | cut -c1-200
echo
echo "== Metrics while running =="
echo "sink:   http://127.0.0.1:$sink_port/metrics   /health   /ready"
echo "source: http://127.0.0.1:$source_port/metrics   /health   /ready"
curl -s "http://127.0.0.1:$sink_port/metrics" | grep -E '^danube_connector_(messages_(received|processed|acked)_total|health)' | head -8
echo "sink /health: $(curl -s "http://127.0.0.1:$sink_port/health")"
echo "sink /ready:  $(curl -s "http://127.0.0.1:$sink_port/ready")"

echo
echo "== Stopping with SIGTERM (drain) =="
kill -TERM "$source_pid" "$sink_pid"
source_exit=0
sink_exit=0
wait "$source_pid" || source_exit=$?
wait "$sink_pid" || sink_exit=$?
grep -h "event=runtime_stopped" "$work/source.log" "$work/sink.log" | sed 's/^/  /'
grep -h "^simple_sink:" "$work/sink.out" | sed 's/^/  /'

echo
echo "== Summary =="
rate=$(echo "$done_count / $elapsed" | bc)
printf 'flowed %d of %d messages: simple_source -> broker (%d partitions) -> simple_sink in %.2f s (%d msgs/s end to end)\n' \
  "$done_count" "$count" "$partitions" "$elapsed" "$rate"
echo "exit codes: simple_source=$source_exit simple_sink=$sink_exit"
[[ "$done_count" -ge "$count" && "$source_exit" == 0 && "$sink_exit" == 0 ]]
