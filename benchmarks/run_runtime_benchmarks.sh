#!/usr/bin/env bash
# Runtime benchmarks: the actor runtime's sink and source pipelines end to end against the
# embedded broker, next to a bare client consumer doing the same work (release build unless
# PRESET says otherwise).
#
#   benchmarks/run_runtime_benchmarks.sh                     # 100000 messages, window 10
#   COUNT=200000 MAX_UNACKED=1000 benchmarks/run_runtime_benchmarks.sh
#   SCHEDULER=stealing benchmarks/run_runtime_benchmarks.sh  # CAF's default scheduler policy
#   PRESET=dev benchmarks/run_runtime_benchmarks.sh         # the dev build (RelWithDebInfo)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-100000}
max_unacked=${MAX_UNACKED:-10}
scheduler=${SCHEDULER:-sharing}
preset=${PRESET:-release}
scripts/setup.sh >/dev/null
[[ -f "build/$preset/build.ninja" ]] || flock /tmp/danube-build.lock cmake --preset "$preset" >/dev/null
flock /tmp/danube-build.lock cmake --build --preset "$preset" -j2 --target danube-runtime-bench >/dev/null
"build/$preset/benchmarks/danube-runtime-bench" --count "$count" --max-unacked "$max_unacked" \
  --scheduler-policy "$scheduler" \
  | python3 -c '
import json, sys
rows = {r["mode"]: r for r in (json.loads(l) for l in sys.stdin if l.strip())}
client = rows["client-consume"]["msgs_per_sec"]
print("| pipeline | msgs/s | vs bare client | p50 ms | p99 ms | CPU µs/msg | voluntary switches/msg | records/batch |")
print("|---|---|---|---|---|---|---|---|")
labels = (("client-consume", "bare client: receive + ack"),
          ("runtime-sink", "runtime sink: receive, batch, process, ack"),
          ("runtime-source", "runtime source: poll, publish, commit"))
for mode, label in labels:
    r = rows[mode]
    rate = r["msgs_per_sec"]
    cpu = "%.1f | %.2f" % (r["cpu_us_per_msg"], r["voluntary_switches_per_msg"])
    per_batch = "%.1f" % r["records_per_batch"] if mode == "runtime-sink" else "-"
    if mode == "runtime-source":
        print("| %s | %.0f | - | - | - | %s | - |" % (label, rate, cpu))
    else:
        print("| %s | %.0f | %.2fx | %.0f | %.0f | %s | %s |" % (label, rate, rate / client, r["p50_ms"], r["p99_ms"], cpu, per_batch))
'
