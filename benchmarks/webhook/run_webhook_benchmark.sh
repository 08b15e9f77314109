#!/usr/bin/env bash
# Webhook benchmark: wrk drives danube-source-webhook (embedded broker, same machine) on a
# reliable and a non-reliable endpoint; beside it, in the same run, the physical limits: wrk on
# the same listener's GET /health (the HTTP stack with a handler that does nothing) and our
# client publishing 200-byte messages straight to the broker (danube-client-bench). Prints a
# markdown table: requests/s, latency percentiles, non-2xx answers and the ratio to the ceiling.
#
#   benchmarks/webhook/run_webhook_benchmark.sh
#   DURATION=20 CONNECTIONS=64 benchmarks/webhook/run_webhook_benchmark.sh
#   PRESET=release benchmarks/webhook/run_webhook_benchmark.sh   # build/release instead of dev
#   SKIP_BUILD=1 ...                                             # use the binaries as they are
set -euo pipefail
cd "$(dirname "$0")/../.."

preset=${PRESET:-dev}
duration=${DURATION:-10}
connections=${CONNECTIONS:-32}
wrk_threads=${WRK_THREADS:-2}
count=${COUNT:-50000}   # messages for each client-bench run
# [offsets] commit_interval_ms of the reliable rows: "default" is the webhook's own default;
# 1000 is the SDK's.
commit_intervals=${COMMIT_INTERVALS:-default 5 1000}
ordering=${ORDERING:-}   # [delivery] ordering ("strict" / "relaxed"); empty: the webhook's default
build=build/$preset
lock=${BUILD_LOCK:-/tmp/danube-build.lock}
script_dir=benchmarks/webhook

command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  # One ninja per build directory at a time: the lock is shared with whoever else builds here.
  flock "$lock" cmake --build --preset "$preset" -j2 \
    --target danube-source-webhook danube-embedded-broker danube-client-bench >/dev/null
fi
webhook_bin="$PWD/$build/connectors/source-webhook/danube-source-webhook"
broker_bin="$PWD/$build/libdanube_connect/src/testkit/danube-embedded-broker"
client_bench="$PWD/$build/benchmarks/danube-client-bench"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

"$broker_bin" --listen 127.0.0.1:0 --log-level warn \
  --topic /default/bench-reliable:reliable --topic /default/bench-fast:non-reliable \
  >"$work/broker.out" 2>"$work/broker.err" &
pids+=($!)
for _ in $(seq 100); do
  grep -q "listening on" "$work/broker.out" && break
  sleep 0.1
done
url="http://$(sed -n 's/.*listening on \(.*\)/\1/p' "$work/broker.out")"

# Starts a webhook process whose [offsets] commit_interval_ms is $2 ("" = the webhook's default);
# sets $port to its listener's port.
start_webhook() {
  local name=$1 commit_interval=$2
  local config="$work/$name.toml"
  {
    echo "danube_service_url = \"$url\""
    echo "connector_name = \"$name\""
    echo "[processing]"
    echo "metrics_port = 0"
    echo "[offsets]"
    echo "state_dir = \"$work/$name-state\""
    [[ "$commit_interval" != default ]] && echo "commit_interval_ms = $commit_interval"
    if [[ -n "$ordering" ]]; then
      echo "[delivery]"
      echo "ordering = \"$ordering\""
    fi
    echo "[server]"
    echo "host = \"127.0.0.1\""
    echo "port = 0"
    echo "threads = 64"
    echo "[[routes]]"
    echo "from = \"/reliable\""
    echo "to = \"/default/bench-reliable\""
    echo "reliable_dispatch = true"
    echo "[[routes]]"
    echo "from = \"/fast\""
    echo "to = \"/default/bench-fast\""
  } >"$config"
  CONNECTOR_CONFIG_PATH="$config" "$webhook_bin" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "event=webhook_listening" "$work/$name.log" && break
    sleep 0.1
  done
  port=$(sed -n 's/.*event=webhook_listening address=[^:]*:\([0-9]*\).*/\1/p' "$work/$name.log")
  [[ -n "$port" ]] || { cat "$work/$name.log" >&2; exit 1; }
}

rows=()
ceiling_rps=""
# Runs wrk; appends a table row. $1 label, $2 url, $3 connections, $4 "get" for GET.
run_wrk() {
  local label=$1 target=$2 conns=$3 method=${4:-post}
  local threads=$wrk_threads
  ((conns < threads)) && threads=$conns
  local line
  if [[ $method == get ]]; then
    line=$(WEBHOOK_BENCH_GET=1 wrk -t"$threads" -c"$conns" -d"${duration}s" -s "$script_dir/post.lua" "$target" | grep '^RESULT')
  else
    line=$(wrk -t"$threads" -c"$conns" -d"${duration}s" -s "$script_dir/post.lua" "$target" | grep '^RESULT')
  fi
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  local rps; rps=$(field rps)
  [[ -z "$ceiling_rps" ]] && ceiling_rps=$rps
  local ratio; ratio=$(awk -v a="$rps" -v b="$ceiling_rps" 'BEGIN { printf "%.2f", a / b }')
  rows+=("| $label | $conns | $rps | $(field p50_ms) | $(field p90_ms) | $(field p99_ms) | $(field non2xx) | $ratio |")
  echo "done: $label" >&2
}

declare -A ports
for interval in $commit_intervals; do
  start_webhook "hooks-$interval" "$interval"
  ports[$interval]=$port
done
first=${commit_intervals%% *}
base="http://127.0.0.1:${ports[$first]}"
label() { [[ $1 == default ]] && echo "commit_interval_ms default" || echo "commit_interval_ms $1"; }

run_wrk "HTTP ceiling: GET /health on the webhook listener" "$base/health" "$connections" get
run_wrk "POST non-reliable (200 = taken by the runtime)" "$base/fast" "$connections"
for interval in $commit_intervals; do
  run_wrk "POST reliable (200 = broker acked), $(label "$interval")" \
    "http://127.0.0.1:${ports[$interval]}/reliable" "$connections"
done
run_wrk "one sender: POST non-reliable" "$base/fast" 1
for interval in $commit_intervals; do
  run_wrk "one sender: POST reliable, $(label "$interval")" \
    "http://127.0.0.1:${ports[$interval]}/reliable" 1
done

# The publish ceiling: our client alone, 200-byte messages, 64 sends in flight.
client_rows=()
for mode in reliable non-reliable; do
  flag=""; [[ $mode == reliable ]] && flag="--reliable"
  line=$("$client_bench" produce --service-url "$url" --topic "/default/client-$mode" \
    --count "$count" --size 200 --in-flight 64 --ordering relaxed $flag)
  rate=$(sed -n 's/.*"msgs_per_sec":\([0-9]*\).*/\1/p' <<<"$line")
  p50=$(sed -n 's/.*"p50_us":\([0-9]*\).*/\1/p' <<<"$line")
  p99=$(sed -n 's/.*"p99_us":\([0-9]*\).*/\1/p' <<<"$line")
  client_rows+=("| client publish, $mode, 64 in flight | $rate | $(awk -v v="$p50" 'BEGIN{printf "%.2f", v/1000}') | $(awk -v v="$p99" 'BEGIN{printf "%.2f", v/1000}') |")
done

echo
echo "wrk ${duration}s per row, ${wrk_threads} wrk threads; broker, webhook and wrk on this machine ($(nproc) cores); ordering=${ordering:-webhook default}."
echo "ratio = requests/s against the first row (the HTTP ceiling)."
echo
echo "| scenario | connections | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "| publish ceiling | msgs/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${client_rows[@]}"
