#!/usr/bin/env bash
# The seed SDK (danube-connect-core 0.5.0, through benchmarks/seed-peer) beside our runtime,
# process against process on the same embedded broker in the same run: a sink draining a
# backlog, a source publishing numbered records on one and on four partitions, and both under
# callgrind. Prints a markdown table with msgs/s and their ratio, CPU and voluntary context
# switches per record, threads, resident memory idle and at peak, callgrind instructions per
# record, and the machine's load (benchmarks/seed_bench.py says how each figure is taken).
#
#   benchmarks/run_seed_benchmarks.sh                       # dev build, everything (~20 min)
#   ONLY=sink,source benchmarks/run_seed_benchmarks.sh      # without callgrind (~3 min)
#   PRESET=release benchmarks/run_seed_benchmarks.sh        # our release build (configures it)
#   COUNT=50000 SOURCE_COUNT=50000 MAX_UNACKED=10 benchmarks/run_seed_benchmarks.sh
#   SKIP_BUILD=1 RAW=/tmp/seed.jsonl benchmarks/run_seed_benchmarks.sh
#
# Needs cargo and the crates registry the first time (the peer's crates are then cached in
# ~/.cargo); it is not part of ctest for that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${PRESET:-dev}
build="build/$preset"
peer_target="$PWD/$build/seed-peer-target"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then  # SKIP_BUILD=1: the binaries are built already
  scripts/setup.sh >/dev/null
  [[ -f "$build/build.ninja" ]] || flock /tmp/danube-build.lock cmake --preset "$preset" >/dev/null
  flock /tmp/danube-build.lock cmake --build --preset "$preset" -j2 --target \
    danube-embedded-broker danube-client-bench simple_sink simple_source >/dev/null
  cargo=$(command -v cargo || echo "$HOME/.cargo/bin/cargo")
  # Not under the build lock: the C++ builds of others need not wait for it.
  CARGO_TARGET_DIR="$peer_target" nice -n 10 "$cargo" build --release --locked -j2 --quiet \
    --manifest-path benchmarks/seed-peer/Cargo.toml
fi

args=(
  --broker "$build/libdanube_connect/src/testkit/danube-embedded-broker"
  --client-bench "$build/benchmarks/danube-client-bench"
  --our-sink "$build/examples/simple_sink"
  --our-source "$build/examples/simple_source"
  --seed-peer "$peer_target/release/danube-seed-peer"
  --only "${ONLY:-sink,source,callgrind}"
  --count "${COUNT:-20000}"
  --sink-partitions "${SINK_PARTITIONS:-4}"
  --max-unacked "${MAX_UNACKED:-1000}"
  --seed-sink-seconds "${SEED_SINK_SECONDS:-30}"
  --source-count "${SOURCE_COUNT:-20000}"
  --source-batch "${SOURCE_BATCH:-100}"
  --source-partitions "${SOURCE_PARTITIONS:-0,4}"
  --cg-count "${CG_COUNT:-6000}"
  --cg-seed-sink-count "${CG_SEED_SINK_COUNT:-100}"
)
[[ -n "${RAW:-}" ]] && args+=(--raw "$RAW")
for i in "${!args[@]}"; do  # the programs run in their own directories: absolute paths
  [[ "${args[$i]}" == build/* ]] && args[$i]="$PWD/${args[$i]}"
done
echo "$(date -u +%Y-%m-%dT%H:%MZ), $preset build of the tree at $(git describe --always --dirty)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 benchmarks/seed_bench.py "${args[@]}"
