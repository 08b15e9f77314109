#!/usr/bin/env bash
# Latency at a fixed publish rate (issue 15: 1 000 msgs/s, 4 partitions, window 10): publish ->
# process_batch of the runtime's sink with default and with latency-tuned batch settings, and
# publish -> receive of a bare client consumer in the same run (danube-latency-bench), against
# a danube-embedded-broker process. Each run is done quiet and again with the other core busy:
# a shell busy loop at normal priority pinned with taskset to CPU $BUSY_CPU (LOAD=nice instead
# runs one unpinned busy loop per core under nice -n 19). Prints one markdown table; its CPU and
# waiting-for-a-CPU columns are per measured message over the benchmark process's threads
# (publisher, consumer, runtime, client), from /proc/self/task/*/schedstat, not the broker's.
#
#   benchmarks/run_latency_benchmarks.sh                   # 3 runs quiet, 3 loaded, dev build
#   RUNS=1 MODES=loaded benchmarks/run_latency_benchmarks.sh
#   RATE=2000 COUNT=50000 MAX_UNACKED=1000 benchmarks/run_latency_benchmarks.sh
#   LOAD=nice benchmarks/run_latency_benchmarks.sh
#   SUBSCRIPTION=Failover benchmarks/run_latency_benchmarks.sh    # no sink offsets file
#   SCHEDULER_THREADS=2 SCHEDULER=stealing benchmarks/run_latency_benchmarks.sh
#   STAGES=1 benchmarks/run_latency_benchmarks.sh       # and where the sink's messages wait
#   PHASES=client,sink TUNED_LINGER_MS=2 benchmarks/run_latency_benchmarks.sh
#   RAW=/tmp/latency.jsonl benchmarks/run_latency_benchmarks.sh   # keep the JSON lines
#   SKIP_BUILD=1 ...                                              # the binaries are built
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${PRESET:-dev}
build="build/$preset"
runs=${RUNS:-3}
modes=${MODES:-quiet loaded}
load_kind=${LOAD:-pinned}
busy_cpu=${BUSY_CPU:-1}
max_unacked=${MAX_UNACKED:-10}
bench_args=(--rate "${RATE:-1000}" --count "${COUNT:-20000}" --warmup "${WARMUP:-2000}"
  --partitions "${PARTITIONS:-4}" --size "${SIZE:-100}"
  --phases "${PHASES:-client,sink,sink-tuned}" --tuned-linger-ms "${TUNED_LINGER_MS:-1}"
  --tuned-batch-size "${TUNED_BATCH_SIZE:-1000}" --subscription "${SUBSCRIPTION:-Exclusive}"
  --scheduler-threads "${SCHEDULER_THREADS:-1}" --scheduler-policy "${SCHEDULER:-sharing}")
[[ "${STAGES:-0}" == 1 ]] && bench_args+=(--sample-stages)

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  scripts/setup.sh >/dev/null
  [[ -f "$build/build.ninja" ]] || flock /tmp/danube-build.lock cmake --preset "$preset" >/dev/null
  flock /tmp/danube-build.lock cmake --build --preset "$preset" -j2 --target \
    danube-embedded-broker danube-latency-bench >/dev/null
fi

source benchmarks/embedded_broker.sh
work=$(mktemp -d)
busy_pids=()
stop_busy() {
  for pid in "${busy_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  busy_pids=()
}
cleanup() {
  stop_busy
  stop_embedded_broker
  rm -rf "$work"
}
trap cleanup EXIT

start_broker() {
  start_embedded_broker "$build/libdanube_connect/src/testkit/danube-embedded-broker" "$work" \
    --max-unacked "$max_unacked"
}

start_busy() {
  if [[ "$load_kind" == nice ]]; then
    for _ in $(seq "$(nproc)"); do
      nice -n 19 bash -c 'while :; do :; done' &
      busy_pids+=($!)
    done
  else
    taskset -c "$busy_cpu" bash -c 'while :; do :; done' &
    busy_pids+=($!)
  fi
}

if [[ "$load_kind" == nice ]]; then
  load_text="$(nproc) busy loops under nice -n 19"
else
  load_text="a busy loop pinned to CPU $busy_cpu"
fi
echo "$(date -u +%Y-%m-%dT%H:%MZ), $preset build of the tree at $(git describe --always --dirty)," \
  "window $max_unacked, $runs run(s) per mode; loaded = $load_text; ${bench_args[*]}" >&2
results="$work/results.jsonl"
for mode in $modes; do
  for run in $(seq "$runs"); do
    start_broker
    [[ "$mode" == loaded ]] && start_busy
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    status=0
    "$build/benchmarks/danube-latency-bench" --broker-url "http://$address" "${bench_args[@]}" \
      >"$work/run.jsonl" || status=$?
    load_after=$(cut -d' ' -f1 /proc/loadavg)
    stop_busy
    stop_embedded_broker
    echo "$mode run $run: load average (1 min) $load_before -> $load_after, exit $status" >&2
    sed "s/^{/{\"mode\":\"$mode\",\"run\":$run,\"load_before\":$load_before,\"load_after\":$load_after,/" \
      "$work/run.jsonl" >>"$results"
  done
done
[[ -n "${RAW:-}" ]] && cp "$results" "$RAW"

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
labels = {"client": "bare client: receive + ack",
          "sink": "runtime sink, defaults",
          "sink-tuned": "runtime sink, tuned"}
def settings(r):
    if r["phase"] == "client":
        return "-"
    return "batch %d, linger %d ms" % (r["batch_size"], r["batch_timeout_ms"])
print("| mode | run | load 1m | consumer | batch settings | p50 µs | p90 µs | p99 µs | p99.9 µs "
      "| max µs | p50 / p99 vs client | msgs per delivery | CPU µs/msg | waiting for a CPU µs/msg "
      "| late sends | lost |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    client = next((c for c in rows if c["mode"] == r["mode"] and c["run"] == r["run"]
                   and c["phase"] == "client"), None)
    ratio = "-"
    if client and r["phase"] != "client" and client["p50_us"] and client["p99_us"]:
        ratio = "%.2fx / %.2fx" % (r["p50_us"] / client["p50_us"], r["p99_us"] / client["p99_us"])
    cpu = sum(t["cpu_us"] for t in r["threads"].values())
    waiting = sum(t["wait_us"] for t in r["threads"].values())
    print("| %s | %d | %.2f-%.2f | %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %.2f | %.0f | %.0f | %d | %d |" % (
        r["mode"], r["run"], r["load_before"], r["load_after"], labels[r["phase"]], settings(r),
        r["p50_us"], r["p90_us"], r["p99_us"], r["p999_us"], r["max_us"], ratio,
        r["samples_per_delivery"], cpu, waiting, r["late_sends"], r["missing"]))
staged = [r for r in rows if "stages" in r]
if staged:
    print()
    print("Messages waiting in each stage of the sink (mean / max over status samples every 20 ms; "
          "mean / rate = mean time in the stage):")
    print()
    print("| mode | run | consumer | samples | before intake | in runtime (to processed) | awaiting ack |")
    print("|---|---|---|---|---|---|---|")
    for r in staged:
        st = r["stages"]
        print("| %s | %d | %s | %d | %.1f / %d | %.1f / %d | %.1f / %d |" % (
            r["mode"], r["run"], labels[r["phase"]], st["samples"], st["before_intake_mean"],
            st["before_intake_max"], st["in_runtime_mean"], st["in_runtime_max"],
            st["awaiting_ack_mean"], st["awaiting_ack_max"]))
PY
