#!/usr/bin/env bash
# danube-sink-postgres throughput beside psql's raw COPY of the same rows, and COPY against
# multi-row INSERT inside the connector (see benchmarks/postgres/README.md).
#
#   benchmarks/postgres/run_postgres_benchmark.sh              # 100000 rows per path, release
#   MESSAGES=20000 BATCH_SIZE=500 PRESET=dev benchmarks/postgres/run_postgres_benchmark.sh
#
# Run as root (PostgreSQL runs as the `postgres` user) or as a user that may run initdb.
set -euo pipefail
cd "$(dirname "$0")/../.."
messages=${MESSAGES:-100000}
batch_size=${BATCH_SIZE:-1000}
preset=${PRESET:-release}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j2 --target danube-postgres-bench danube-sink-postgres \
  danube-embedded-broker >/dev/null
build="build/$preset"
"$build/benchmarks/postgres/danube-postgres-bench" --messages "$messages" \
  --batch-size "$batch_size" \
  --broker "$build/libdanube_connect/src/testkit/danube-embedded-broker" \
  --connector "$build/connectors/sink-postgres/danube-sink-postgres"
