#!/usr/bin/env bash
# Client benchmarks: our C++ client against the Rust danube-client 0.15.1 (through the interop
# peer), same embedded broker, same workloads, in one run. Prints a markdown table with
# msgs/s, MB/s, p50/p99 latency and the C++/Rust ratio.
#
#   benchmarks/run_client_benchmarks.sh            # 20000 messages per run
#   COUNT=50000 benchmarks/run_client_benchmarks.sh
#   MAX_UNACKED=1000 benchmarks/run_client_benchmarks.sh   # a wider broker dispatch window
set -euo pipefail
cd "$(dirname "$0")/.."

count=${COUNT:-20000}
max_unacked=${MAX_UNACKED:-10}   # Danube's default window of unacked messages per subscription
build=build/release

scripts/setup.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target danube-embedded-broker danube-client-bench >/dev/null
cargo=$(command -v cargo || echo "$HOME/.cargo/bin/cargo")
CARGO_TARGET_DIR="$PWD/$build/rust-peer-target" "$cargo" build --release --locked -j2 --quiet \
  --manifest-path tests/interop/rust-peer/Cargo.toml
cpp="$PWD/$build/benchmarks/danube-client-bench"
rust="$PWD/$build/rust-peer-target/release/danube-interop-peer"

source benchmarks/embedded_broker.sh
work=$(mktemp -d)
cleanup() {
  stop_embedded_broker
  rm -rf "$work"
}
trap cleanup EXIT

start_embedded_broker "$PWD/$build/libdanube_connect/src/testkit/danube-embedded-broker" "$work" \
  --max-unacked "$max_unacked"
url="http://$address"
echo "broker: $url (max_unacked=$max_unacked), $count messages per run" >&2

results="$work/results.jsonl"
run=0
# Every run gets a topic of its own (a global, not $(...): a subshell would lose the count).
next_topic() { run=$((run + 1)); topic="/default/bench-$run"; }

# Waits for a consumer's {"ready":true} line, produces with our fast producer, collects its result.
consume_run() {
  local client=$1 size=$2
  next_topic
  local out="$work/consume-$run.out"
  "$cpp" produce --service-url "$url" --topic "$topic" --count 1 --size 1 --reliable >/dev/null
  if [[ $client == cpp ]]; then
    "$cpp" consume --service-url "$url" --topic "$topic" --subscription bench --count "$count" --ack >"$out" &
  else
    "$rust" bench-consume --service-url "$url" --topic "$topic" --subscription bench --count "$count" --ack >"$out" &
  fi
  local consumer=$!
  for _ in $(seq 200); do grep -q ready "$out" && break; sleep 0.05; done
  "$cpp" produce --service-url "$url" --topic "$topic" --count "$count" --size "$size" --reliable --in-flight 64 >/dev/null
  wait "$consumer"
  grep -v ready "$out" | sed "s/^{/{\"client\":\"$client\",/" >>"$results"
}

for size in 100 1024; do
  next_topic
  "$cpp" produce --service-url "$url" --topic "$topic" --count "$count" --size "$size" --reliable --in-flight 1 \
    | sed 's/"client":"cpp"/"client":"cpp-1"/' >>"$results"
  next_topic
  "$cpp" produce --service-url "$url" --topic "$topic" --count "$count" --size "$size" --reliable --in-flight 64 \
    | sed 's/"client":"cpp"/"client":"cpp-64"/' >>"$results"
  next_topic
  "$rust" bench-produce --service-url "$url" --topic "$topic" --count "$count" --size "$size" --reliable \
    | sed 's/^{/{"client":"rust",/' >>"$results"
  consume_run cpp "$size"
  consume_run rust "$size"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def find(mode, size, client):
    for r in rows:
        if r["mode"] == mode and int(r["size"]) == size and r["client"].startswith(client):
            if client == "cpp" and mode == "produce" and r["client"] != "cpp-64":
                continue
            return r
print("| workload | size | client | msgs/s | MB/s | p50 µs | p99 µs | vs Rust |")
print("|---|---|---|---|---|---|---|---|")
for size in (100, 1024):
    rust_produce = find("produce", size, "rust")
    for client in ("cpp-1", "cpp-64", "rust"):
        r = next(x for x in rows if x["mode"] == "produce" and int(x["size"]) == size and x["client"] == client)
        ratio = r["msgs_per_sec"] / rust_produce["msgs_per_sec"]
        label = {"cpp-1": "C++, 1 in flight", "cpp-64": "C++, 64 in flight", "rust": "Rust danube-client"}[client]
        print(f"| produce (reliable) | {size} B | {label} | {r['msgs_per_sec']:.0f} | {r['mb_per_sec']:.2f} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | {ratio:.2f}x |")
    rust_consume = next(x for x in rows if x["mode"] == "consume" and x["client"] == "rust" and int(x["size"]) == size)
    for client in ("cpp", "rust"):
        r = next(x for x in rows if x["mode"] == "consume" and x["client"] == client and int(x["size"]) == size)
        ratio = r["msgs_per_sec"] / rust_consume["msgs_per_sec"]
        label = "C++" if client == "cpp" else "Rust danube-client"
        print(f"| receive + ack | {size} B | {label} | {r['msgs_per_sec']:.0f} | {r['mb_per_sec']:.2f} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | {ratio:.2f}x |")
PY
