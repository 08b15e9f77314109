#!/usr/bin/python3
"""check_compose.py must reject broken copies of compose/docker-compose.yml, each for its fault.

Each case changes one thing in a copy (written to a temporary directory and checked with
--project-directory compose/, so the copy's relative paths mean what the original's do) and
expects exit code 1 and a problem line naming the fault. The unchanged copy must pass first, so
a rejection comes from the change and not from copying.

Usage: compose_rejects_test.py SOURCE_DIR BUILD_DIR
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def set_env(service, name, value):
    def change(compose):
        compose["services"][service].setdefault("environment", {})[name] = value
    return change


def add_to(service, key, value):
    def change(compose):
        compose["services"][service].setdefault(key, []).append(value)
    return change


def replace_volume(service, old_target, new_target):
    def change(compose):
        volumes = compose["services"][service]["volumes"]
        compose["services"][service]["volumes"] = [
            v.replace(f":{old_target}", f":{new_target}") for v in volumes]
    return change


def set_key(service, key, value):
    def change(compose):
        compose["services"][service][key] = value
    return change


def healthcheck_port(service, port):
    def change(compose):
        compose["services"][service]["healthcheck"] = {
            "test": ["CMD", "danube-connect-healthcheck", port]}
    return change


def remove_service(service):
    def change(compose):
        del compose["services"][service]
    return change


def top_level(key, value):
    def change(compose):
        compose[key] = value
    return change


def mount_config(service, config_file):
    def change(compose):
        compose["services"][service]["volumes"] = [
            f"{config_file}:/etc/danube-connect/connector.toml:ro"
            if v.endswith(":/etc/danube-connect/connector.toml:ro") else v
            for v in compose["services"][service]["volumes"]]
    return change


def cases(scratch):
    broken_config = scratch / "broken-sink.toml"
    broken_config.write_text('danube_service_url = "http://danube-broker:6650"\n'
                             'connector_name = "broken"\n[processing]\nno_such_key = 1\n')
    return [
        ("an undocumented variable on a connector",
         set_env("simple-sink", "DANUBE_UNDOCUMENTED_SETTING", "1"),
         "sets DANUBE_UNDOCUMENTED_SETTING"),
        ("an SDK override of a setting that does not exist",
         set_env("simple-sink", "DANUBE_CONNECT__PROCESSING__NO_SUCH_SETTING", "1"),
         "DANUBE_CONNECT__PROCESSING__NO_SUCH_SETTING: [processing] no_such_setting: unknown key"),
        ("a port the connector does not serve",
         add_to("simple-sink", "ports", "9999:9999"), "publishes port 9999"),
        ("the state volume somewhere the user does not own",
         replace_volume("simple-sink", "/var/lib/danube-connect", "/data"),
         "mounts a volume at /data"),
        ("a bind mount the configuration does not reference",
         add_to("simple-sink", "volumes", "./config/mosquitto.conf:/etc/extra.conf:ro"),
         "bind-mounts /etc/extra.conf"),
        ("a configuration --check-config refuses",
         mount_config("simple-sink", broken_config), "--check-config"),
        ("a healthcheck on another port",
         healthcheck_port("simple-sink", "9091"), "healthcheck"),
        ("an image the README does not list",
         set_key("postgres", "image", "postgres:16"), "image 'postgres:16' is not in"),
        ("an unpinned image",
         set_key("mosquitto", "image", "eclipse-mosquitto:latest"), "is not pinned"),
        ("a variable the README's image row does not name",
         set_env("postgres", "PGDATA", "/var/lib/postgresql/data/pgdata"), "sets PGDATA"),
        ("a port the README's image row does not name",
         add_to("postgres", "ports", "5433:5433"), "publishes port 5433"),
        ("a secret written in the file",
         set_env("postgres", "POSTGRES_PASSWORD", "hunter2"),
         "POSTGRES_PASSWORD is written in the file"),
        ("a connector without a service",
         remove_service("http-sink"), "no service runs the connector danube-sink-http"),
        ("a file docker-compose 1.29 refuses",
         top_level("name", "danube-connect"), "docker-compose config"),
    ]


def check(source_dir, build_dir, compose_file):
    result = subprocess.run(
        [str(source_dir / "tests/deployment/check_compose.py"), "--source-dir", str(source_dir),
         "--build-dir", str(build_dir), "--project-directory", str(source_dir / "compose"),
         "--require-every-connector", str(compose_file)],
        capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def main():
    source_dir, build_dir = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    original = yaml.safe_load((source_dir / "compose/docker-compose.yml").read_text())
    failures = 0
    with tempfile.TemporaryDirectory(prefix="compose-rejects-") as directory:
        scratch = Path(directory)
        copy = scratch / "docker-compose.yml"
        copy.write_text(yaml.safe_dump(original, sort_keys=False))
        status, output = check(source_dir, build_dir, copy)
        if status != 0:
            print(f"FAIL: the unchanged copy is rejected (exit {status}):\n{output}")
            return 1
        print("the unchanged copy passes")
        all_cases = cases(scratch)
        for name, change, expected in all_cases:
            broken = yaml.safe_load(yaml.safe_dump(original))
            change(broken)
            copy.write_text(yaml.safe_dump(broken, sort_keys=False))
            status, output = check(source_dir, build_dir, copy)
            if status == 1 and expected in output:
                print(f"rejected: {name}: {output.strip().splitlines()[0]}")
            else:
                failures += 1
                print(f"FAIL: {name}: exit {status}, expected a line with {expected!r}:\n{output}")
    print(f"{len(all_cases) - failures} of {len(all_cases)} broken copies rejected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
