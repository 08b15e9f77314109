#!/usr/bin/env bash
# The floor under issue 15's per-record goals: sequential Danube SendMessage calls on bare gRPC
# 1.51 (danube-grpc-floor-bench: no client library, no actors), through grpc++'s callback API,
# its completion-queue API on a thread of the program's own, and a blocking call, against a
# danube-embedded-broker process. For each API: calls per second and p50/p99 per call
# (RUNS runs of COUNT calls), the process's threads and RSS after them, and instructions per
# call under callgrind, (I(2n) - I(n)) / n with n = CG_COUNT, so start-up and the producer's
# creation cancel out. Prints one markdown table.
#
#   benchmarks/run_grpc_floor_benchmarks.sh                  # dev build, ~3 min
#   RUNS=3 COUNT=20000 CG_COUNT=2000 benchmarks/run_grpc_floor_benchmarks.sh
#   APIS="callback queue" MINIMAL_STACK=1 benchmarks/run_grpc_floor_benchmarks.sh
#   SKIP_BUILD=1 ...                                           # the binaries are built
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${PRESET:-dev}
build="build/$preset"
runs=${RUNS:-2}
count=${COUNT:-5000}
cg_count=${CG_COUNT:-1000}
apis=${APIS:-callback queue blocking}
extra=()
[[ "${MINIMAL_STACK:-0}" == 1 ]] && extra+=(--minimal-stack)

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  scripts/setup.sh >/dev/null
  [[ -f "$build/build.ninja" ]] || flock /tmp/danube-build.lock cmake --preset "$preset" >/dev/null
  flock /tmp/danube-build.lock cmake --build --preset "$preset" -j2 --target \
    danube-embedded-broker danube-grpc-floor-bench >/dev/null
fi
command -v valgrind >/dev/null || { echo "valgrind is missing (scripts/setup.sh installs it)" >&2; exit 1; }

source benchmarks/embedded_broker.sh
work=$(mktemp -d)
cleanup() {
  stop_embedded_broker
  rm -rf "$work"
}
trap cleanup EXIT

start_embedded_broker "$build/libdanube_connect/src/testkit/danube-embedded-broker" "$work"

bench="$build/benchmarks/danube-grpc-floor-bench"
echo "$(date -u +%Y-%m-%dT%H:%MZ), $preset build of the tree at $(git describe --always --dirty)," \
  "$runs run(s) of $count calls per API, callgrind at $cg_count and $((2 * cg_count));" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
results="$work/results.jsonl"
instructions() {  # api count -> instructions of the whole process
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --address "$address" \
    --api "$1" --count "$2" "${extra[@]}" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'
}
for api in $apis; do
  for run in $(seq "$runs"); do
    "$bench" --address "$address" --api "$api" --count "$count" "${extra[@]}" |
      sed "s/^{/{\"run\":$run,/" >>"$results"
  done
  small=$(instructions "$api" "$cg_count")
  large=$(instructions "$api" "$((2 * cg_count))")
  echo "{\"api\":\"$api\",\"callgrind\":true,\"instructions_per_call\":$(((large - small) / cg_count))}" \
    >>"$results"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("| API | calls/s (per run) | p50 µs | p99 µs | threads | RSS MB (anon + file) | instructions per call |")
print("|---|---|---|---|---|---|---|")
for api in dict.fromkeys(r["api"] for r in rows):
    runs = [r for r in rows if r["api"] == api and not r.get("callgrind")]
    cg = next((r for r in rows if r["api"] == api and r.get("callgrind")), None)
    print("| %s | %s | %s | %s | %s | %s | %s |" % (
        api, " / ".join("%.0f" % r["calls_per_sec"] for r in runs),
        " / ".join("%.0f" % r["p50_us"] for r in runs),
        " / ".join("%.0f" % r["p99_us"] for r in runs),
        " / ".join(str(r["threads"]) for r in runs),
        " / ".join("%.1f (%.1f + %.1f)" % (r["rss_kb"] / 1024, r["rss_anon_kb"] / 1024,
                                           r["rss_file_kb"] / 1024) for r in runs),
        "%.1f k" % (cg["instructions_per_call"] / 1000) if cg else "-"))
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
