#!/usr/bin/env bash
# Sink buffer benchmark: how fast a sink with a slow connector takes a backlog off a broker that
# loses what lags (embedded broker, danube-0.15 dispatch), without and with [sink_buffer]
# (release build).
#
#   benchmarks/run_buffer_benchmarks.sh                        # 10000 at 800/s, 2 ms/record
#   COUNT=20000 RATE=1500 RECORD_US=1000 benchmarks/run_buffer_benchmarks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-10000}
rate=${RATE:-800}
record_us=${RECORD_US:-2000}
max_unacked=${MAX_UNACKED:-10}
scripts/setup.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target danube-buffer-bench >/dev/null
build/release/benchmarks/danube-buffer-bench --count "$count" --rate "$rate" \
  --record-us "$record_us" --max-unacked "$max_unacked" \
  | grep '^{' | python3 -c '
import json, sys
rows = {r["mode"]: r for r in (json.loads(l) for l in sys.stdin if l.strip())}
base = rows["unbuffered"]["broker_rate"]
print("| sink | broker drain s | acked msgs/s | vs unbuffered | lost | reported lost | connector done s | p50 ms | p99 ms |")
print("|---|---|---|---|---|---|---|---|---|")
for mode in ("unbuffered", "buffered"):
    r = rows[mode]
    print("| %s | %.2f | %.0f | %.2fx | %d | %d | %.2f | %.0f | %.0f |" % (
        mode, r["broker_drain_s"], r["broker_rate"], r["broker_rate"] / base, r["lost"],
        r["reported_lost"], r["connector_s"], r["p50_ms"], r["p99_ms"]))
'
