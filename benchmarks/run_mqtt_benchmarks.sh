#!/usr/bin/env bash
# danube-source-mqtt throughput: QoS 0, QoS 1 acknowledged after Danube stored each message (the
# default) and QoS 1 acknowledged on receipt, each beside mosquitto alone and the Danube client
# alone in the same run (see benchmarks/README.md, "MQTT source").
#
#   benchmarks/run_mqtt_benchmarks.sh                 # 20000 messages per path, release build
#   MESSAGES=50000 PRESET=dev benchmarks/run_mqtt_benchmarks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${MESSAGES:-20000}
preset=${PRESET:-release}
scripts/setup.sh >/dev/null
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j2 --target danube-mqtt-bench danube-source-mqtt \
  danube-embedded-broker >/dev/null
build="build/$preset"
for mode in "--qos 0" "--qos 1 --ack-after-publish true" "--qos 1 --ack-after-publish false"; do
  # shellcheck disable=SC2086
  "$build/benchmarks/danube-mqtt-bench" --messages "$messages" $mode \
    --broker "$build/libdanube_connect/src/testkit/danube-embedded-broker" \
    --connector "$build/connectors/source-mqtt/danube-source-mqtt" | grep -v '^$'
  echo
done
