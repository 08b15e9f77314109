#!/usr/bin/env bash
# Scaling a sink out: 1, 2 and 3 sink processes on one Shared subscription draining the same
# backlog from the embedded broker (danube-scale-out-bench; see benchmarks/README.md, "Scaling a
# sink out", and docs/scaling.md). Two workloads: a sink whose work is nearly free (the
# pipeline's and the broker's cost show), and one that waits RECORD_US per record, as a sink does
# whose external system dominates. Each configuration runs RUNS times; the table shows the median
# (p50) with the lowest and highest run, and the ratio of medians to 1 instance.
#
#   benchmarks/run_scale_out_benchmarks.sh                       # release build, 3 runs
#   PRESET=dev RUNS=5 benchmarks/run_scale_out_benchmarks.sh
#   COUNT=200000 RECORD_US=500 SLOW_COUNT=20000 benchmarks/run_scale_out_benchmarks.sh
#   FDATASYNC=1 benchmarks/run_scale_out_benchmarks.sh           # the sinks sync every batch
#   MAX_UNACKED=10 benchmarks/run_scale_out_benchmarks.sh        # Danube's standalone window
#   SKIP_BUILD=1 PRESET=dev benchmarks/run_scale_out_benchmarks.sh  # use what is built
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${PRESET:-release}
runs=${RUNS:-3}
count=${COUNT:-100000}             # the backlog of the free-work rows
slow_count=${SLOW_COUNT:-30000}    # the backlog of the RECORD_US rows
record_us=${RECORD_US:-200}
size=${SIZE:-100}
partitions=${PARTITIONS:-6}
max_unacked=${MAX_UNACKED:-1000}
instances=${INSTANCES:-1,2,3}
sync_flag=()
if [[ "${FDATASYNC:-0}" == 1 ]]; then sync_flag=(--fdatasync); fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then  # SKIP_BUILD=1: the binaries are built already
  scripts/setup.sh >/dev/null
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j2 --target danube-scale-out-bench chaos_sink \
    danube-embedded-broker >/dev/null
fi
build="build/$preset"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for run in $(seq 1 "$runs"); do
  for workload in "0 $count" "$record_us $slow_count"; do
    read -r us backlog <<<"$workload"
    echo "run $run/$runs: record_us=$us count=$backlog" >&2
    "$build/benchmarks/danube-scale-out-bench" \
      --broker "$build/libdanube_connect/src/testkit/danube-embedded-broker" \
      --sink "$build/tests/chaos/chaos_sink" --instances "$instances" --count "$backlog" \
      --size "$size" --partitions "$partitions" --max-unacked "$max_unacked" \
      --record-us "$us" "${sync_flag[@]}" | grep '^{' >>"$results"
  done
done
python3 - "$results" <<'PY'
import json, os, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = {}
for r in rows:
    groups.setdefault((r["record_us"], r["instances"]), []).append(r)
def median(values):
    return statistics.median(values)
print("| sink work per record | instances | msgs/s p50 (min-max) | vs 1 instance | CPU s per instance | broker CPU s | cores busy | duplicates / missing | load average (1 min) |")
print("|---|---|---|---|---|---|---|---|---|")
for record_us in sorted({k[0] for k in groups}):
    base = median([r["msgs_per_sec"] for r in groups.get((record_us, 1), [])] or [0])
    for instances in sorted(k[1] for k in groups if k[0] == record_us):
        g = groups[(record_us, instances)]
        rates = [r["msgs_per_sec"] for r in g]
        p50 = median(rates)
        cpu = [median([r["instance_cpu_s"][i] for r in g]) for i in range(instances)]
        work = "none" if record_us == 0 else "%d µs (wait)" % record_us
        ratio = "%.2fx" % (p50 / base) if base else "-"
        loads = [float(r["load_before"].split()[0]) for r in g]
        # Our processes' CPU over the drain: sinks, broker and this program's file polling.
        busy = median([(sum(r["instance_cpu_s"]) + r["broker_cpu_s"] + r["bench_cpu_s"]) /
                       r["seconds"] for r in g])
        print("| %s | %d | %.0f (%.0f-%.0f) | %s | %s | %.2f | %.2f | %d / %d | %.1f-%.1f |" % (
            work, instances, p50, min(rates), max(rates), ratio,
            " / ".join("%.2f" % c for c in cpu), median([r["broker_cpu_s"] for r in g]), busy,
            sum(r["duplicates"] for r in g), sum(r["missing"] for r in g), min(loads),
            max(loads)))
counts = sorted({(r["record_us"], r["count"]) for r in rows})
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print()
print("machine: %d cores (%s); load average (1 min) taken before each drain" % (os.cpu_count(), model))
print("backlog: %s; %d B payloads, %d partitions, broker window %d per partition, fdatasync %s" % (
    ", ".join("%d messages for work %d µs" % (c, us) for us, c in counts), rows[0]["size"],
    rows[0]["partitions"], rows[0]["max_unacked"], "on" if rows[0]["fdatasync"] else "off"))
PY
