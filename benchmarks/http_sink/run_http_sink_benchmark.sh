#!/usr/bin/env bash
# danube-sink-http throughput (single, single with relaxed ordering, ndjson batches) beside wrk
# posting the same bodies to the same HTTP server in the same run (see README.md here).
#
#   benchmarks/http_sink/run_http_sink_benchmark.sh                  # 20000 records, release build
#   RECORDS=50000 PRESET=dev benchmarks/http_sink/run_http_sink_benchmark.sh --concurrency 16
set -euo pipefail
cd "$(dirname "$0")/../.."
records=${RECORDS:-20000}
preset=${PRESET:-release}
command -v wrk >/dev/null || scripts/setup.sh >/dev/null
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j2 --target danube-http-sink-bench danube-sink-http \
  danube-embedded-broker simple_sink >/dev/null
build="build/$preset"
"$build/benchmarks/http_sink/danube-http-sink-bench" --records "$records" \
  --broker "$build/libdanube_connect/src/testkit/danube-embedded-broker" \
  --connector "$build/connectors/sink-http/danube-sink-http" \
  --simple-sink "$build/examples/simple_sink" "$@"
