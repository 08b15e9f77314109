# Sourced by the benchmark scripts: starts a danube-embedded-broker process and stops it.
#
#   start_embedded_broker BROKER_BINARY WORK_DIR [broker options...]
#     starts it on a free port with --log-level warn, its output in WORK_DIR/broker.{out,err};
#     sets broker_pid and address (host:port); exits the script if it does not come up in 30 s
#   stop_embedded_broker
#     stops it, if one runs (safe in an EXIT trap)
broker_pid=""
address=""

start_embedded_broker() {
  local binary=$1 work=$2
  shift 2
  : >"$work/broker.out"
  "$binary" --listen 127.0.0.1:0 --log-level warn "$@" >"$work/broker.out" 2>"$work/broker.err" &
  broker_pid=$!
  for _ in $(seq 300); do
    grep -q "listening on" "$work/broker.out" && break
    kill -0 "$broker_pid" 2>/dev/null || { cat "$work/broker.err" >&2; exit 1; }
    sleep 0.1
  done
  address=$(sed -n 's/.*listening on \(.*\)/\1/p' "$work/broker.out")
  [[ -n "$address" ]] || { echo "the broker did not come up" >&2; exit 1; }
}

stop_embedded_broker() {
  [[ -n "$broker_pid" ]] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  broker_pid=""
}
