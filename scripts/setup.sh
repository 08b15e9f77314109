#!/usr/bin/env bash
# Installs the Debian 12 packages danube-connect builds and tests with.
# Idempotent: packages already present are skipped, and `apt-get update` runs only when
# something is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config curl ca-certificates openssl bc
  libcaf-dev
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libprotoc-dev
  libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
  prometheus-cpp-dev libcivetweb-dev
  libssl-dev
  libboost-test-dev
  libcli11-dev
  libavro-dev
  clang-format
  # benchmarks/run_seed_benchmarks.sh: instructions per record (callgrind, callgrind_control)
  valgrind
  # connectors/: the MQTT source (libmosquitto) and its tests (a real mosquitto); the webhook
  # source's tests (libcurl) and benchmarks (wrk)
  libmosquitto-dev mosquitto mosquitto-clients
  libcurl4-openssl-dev wrk
  # the PostgreSQL sink (libpqxx) and its tests (a PostgreSQL 15 server started by the test)
  libpqxx-dev postgresql postgresql-client
  # the fuzz preset (docs/fuzzing.md); libclang-rt-14-dev has the sanitizer runtimes
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  # the deployment tests (tests/deployment/): Debian's docker-compose validates the compose files
  # without a Docker engine, and python3-yaml reads what it prints
  docker-compose python3-yaml
  # the metrics tests: promtool checks /metrics, and a Prometheus the test starts scrapes a
  # connector (tests/observability/); only the binaries are used, never the system service
  prometheus
  # the Debian packages cpack makes (tests/install/): dpkg-shlibdeps finds their Depends
  dpkg-dev
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi

echo "setup: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Debian starts the prometheus service on install where systemd runs. It would hold port 9090,
# the connectors' default metrics port, and scrape nothing of ours (tests start their own
# Prometheus on a free port), so a service this script brought in is stopped and disabled.
if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
  "${sudo_cmd[@]}" systemctl disable --now prometheus.service
fi
