#!/usr/bin/python3
"""Checks one Docker Compose file of this repository against what it deploys.

1. `docker-compose config` (Debian's docker-compose 1.29) accepts the file, with DOCKER_HOST
   pointing at a socket that does not exist: validation needs no Docker engine. Variables the file
   requires (`${NAME:?message}`) get placeholder values.
2. Secrets (environment names with PASSWORD, SECRET, TOKEN or KEY) are never written in the file:
   their value must be a required variable, `${NAME:?message}`.
3. A service built from compose/Dockerfile runs a connector binary the Dockerfile installs. The
   locally built binary is run with the service's environment and mounted configuration file:
   `--check-config` must pass, and `--print-config` gives the effective settings the rest is
   checked against:
   - each published container port is processing.metrics_port (with http.bind_address 0.0.0.0)
     or a port the configuration file or a *PORT variable sets;
   - each bind mount is the configuration file, read-only; each named volume is the Dockerfile's
     VOLUME (the directory the image's user owns), and offsets.state_dir lies inside one;
   - each environment variable is named in the binary's documentation (its folder's README.md or
     connector.toml, README.md, docs/author-guide.md), or by a *_env key of its configuration
     file, or is a DANUBE_CONNECT__SECTION__KEY override of a setting --print-config lists;
   - its healthcheck runs the Dockerfile's healthcheck command on processing.metrics_port.
4. Any other service uses a pinned image that compose/README.md lists in its images table, and
   publishes only ports, mounts only paths and sets only variables that row names.
With --require-every-connector, every connector binary of the source tree must have a service.

Usage: check_compose.py --source-dir DIR --build-dir DIR [--project-directory DIR]
                        [--require-every-connector] COMPOSE_FILE
Prints each problem and exits 1 if there is any; exits 0 and prints a summary otherwise.
"""

import argparse
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REQUIRED_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}")
SECRET_NAME = re.compile(r"(^|_)(PASSWORD|SECRET|TOKEN|KEY)(_|$)")
PRINT_CONFIG_LINE = re.compile(r"^(\S+) = (.*?)  # (.+)$")
SDK_OVERRIDE = re.compile(r"^DANUBE_CONNECT__([A-Z0-9_]+?)__([A-Z0-9_]+)$")


class Problems:
    def __init__(self, compose_file):
        self.compose_file = compose_file
        self.items = []

    def add(self, where, text):
        self.items.append(f"{self.compose_file}: {where}: {text}")


def connector_binaries(source_dir):
    """Every connector executable of the tree, with the folder that documents it."""
    binaries = {}
    for cmake_file in [source_dir / "examples/CMakeLists.txt",
                       *sorted(source_dir.glob("connectors/*/CMakeLists.txt"))]:
        for name in re.findall(r"add_executable\(\s*([A-Za-z0-9_.-]+)", cmake_file.read_text()):
            binaries[name] = cmake_file.parent
    return binaries


def dockerfile_facts(dockerfile):
    """The runtime stage's user, working directory, volume, binaries and healthcheck command."""
    text = dockerfile.read_text()
    stages = re.split(r"(?m)^FROM\s+", text)
    runtime = stages[-1]
    def last(instruction):
        found = re.findall(rf"(?m)^{instruction}\s+(.+)$", runtime)
        return found[-1].strip() if found else None
    return {
        "stages": len(stages) - 1,
        "base": runtime.split()[0],
        "user": last("USER"),
        "workdir": last("WORKDIR"),
        "volume": last("VOLUME"),
        "binaries": set(re.findall(r"/build/\S+/([A-Za-z0-9_.-]+)", text)),
        "tools": set(re.findall(r"(?m)^COPY\s+\S+\s+/usr/local/bin/([A-Za-z0-9_.-]+)\s*$", runtime)),
    }


def readme_image_rows(readme):
    """compose/README.md's images table: image -> every `code` word of its row."""
    rows = {}
    for line in readme.read_text().splitlines():
        if not line.startswith("|"):
            continue
        cells = line.split("|")
        image = re.findall(r"`([^`]+)`", cells[1]) if len(cells) > 2 else []
        if len(image) == 1:
            rows[image[0]] = set(re.findall(r"`([^`]+)`", line))
    return rows


def compose_config(compose_file, project_directory, raw_text):
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("DOCKER_", "COMPOSE_"))}
    environment["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    for name in REQUIRED_VARIABLE.findall(raw_text):
        environment[name] = f"placeholder-{name.lower()}"
    command = ["docker-compose", "-f", str(compose_file)]
    if project_directory:
        command += ["--project-directory", str(project_directory)]
    result = subprocess.run(command + ["config"], env=environment, capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr.strip()


def as_mapping(environment):
    if isinstance(environment, list):
        return dict(entry.split("=", 1) if "=" in entry else (entry, None) for entry in environment)
    return dict(environment or {})


def split_volume(volume):
    """A volume entry (short source:target[:mode] or long syntax) -> (source, target, mode)."""
    if isinstance(volume, dict):
        return volume.get("source"), volume["target"], "ro" if volume.get("read_only") else "rw"
    parts = volume.split(":")
    if len(parts) == 1:
        return None, parts[0], "rw"
    return parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"


def container_ports(service):
    for port in service.get("ports", []):
        if isinstance(port, dict):
            yield str(port["target"])
        else:
            yield str(port).split(":")[-1].split("/")[0]


def config_ports_and_env_names(config):
    """Integers under *port keys and the values of *_env keys of a TOML configuration."""
    ports, env_names = set(), set()
    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if (key == "port" or key.endswith("_port")) and isinstance(value, int):
                    ports.add(str(value))
                elif key.endswith("_env") and isinstance(value, str):
                    env_names.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(config)
    return ports, env_names


def run_binary(binary, option, config_file, service_env):
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    environment.update({k: str(v) for k, v in service_env.items() if v is not None})
    return subprocess.run([str(binary), "--config", str(config_file), option],
                          env=environment, capture_output=True, text=True)


def is_within(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def check_connector_service(name, service, context, problems):
    where = f"service {name}"
    source_dir, binaries, docker = context["source_dir"], context["binaries"], context["docker"]
    build = service["build"]
    if Path(build.get("context", "")).resolve() != source_dir.resolve() or \
            build.get("dockerfile") != "compose/Dockerfile":
        problems.add(where, f"builds {build}, not compose/Dockerfile from the repository root")
    if service.get("image") != "danube-connect":
        problems.add(where, f"names its image {service.get('image')!r}; the connector image is "
                            "'danube-connect'")
    command = service.get("command") or []
    command = command.split() if isinstance(command, str) else command
    binary_name = command[0] if command else None
    if binary_name not in binaries or binary_name not in docker["binaries"]:
        problems.add(where, f"runs {binary_name!r}, not a connector binary compose/Dockerfile "
                            f"installs ({', '.join(sorted(docker['binaries']))})")
        return None
    context["commands"].add(binary_name)
    binary = context["build_dir"] / binaries[binary_name].relative_to(source_dir) / binary_name
    if not binary.is_file():
        problems.add(where, f"{binary} is not built")
        return binary_name

    env = as_mapping(service.get("environment"))
    config_path = command[command.index("--config") + 1] if "--config" in command[:-1] \
        else env.get("CONNECTOR_CONFIG_PATH")
    binds, named = {}, {}
    for volume in service.get("volumes", []):
        source, target, mode = split_volume(volume)
        (binds if source and source.startswith("/") else named)[target] = (source, mode)
    if not config_path or config_path not in binds:
        problems.add(where, f"its configuration file {config_path!r} is not mounted")
        return binary_name
    config_file = Path(binds[config_path][0])
    if binds[config_path][1] != "ro":
        problems.add(where, f"mounts {config_path} writable; a configuration is mounted read-only")

    checked = run_binary(binary, "--check-config", config_file, env)
    if checked.returncode != 0:
        problems.add(where, f"{binary_name} --check-config {config_file} exits "
                            f"{checked.returncode}: {(checked.stderr or checked.stdout).strip()}")
        return binary_name
    printed = run_binary(binary, "--print-config", config_file, env)
    settings = {m.group(1): m.group(2) for m in map(PRINT_CONFIG_LINE.match,
                                                   printed.stdout.splitlines()) if m}
    config = tomllib.loads(config_file.read_text())
    config_ports, config_env_names = config_ports_and_env_names(config)
    metrics_port = settings.get("processing.metrics_port")

    for port in container_ports(service):
        if port == metrics_port:
            if settings.get("http.enabled") != "true" or settings.get("http.bind_address") != "0.0.0.0":
                problems.add(where, f"publishes the metrics port {port}, but the runtime serves it "
                                    f"on {settings.get('http.bind_address')} (enabled: "
                                    f"{settings.get('http.enabled')})")
        elif port not in config_ports and not any(
                key.endswith("PORT") and str(value) == port for key, value in env.items()):
            problems.add(where, f"publishes port {port}, which neither processing.metrics_port "
                                f"({metrics_port}) nor {config_file.name} nor a *PORT variable sets")

    volume_dir = docker["volume"]
    for target in binds:
        if target != config_path:
            problems.add(where, f"bind-mounts {target}, a path its configuration does not reference")
    state_dir = settings.get("offsets.state_dir", "")
    if not state_dir.startswith("/"):
        state_dir = os.path.normpath(os.path.join(docker["workdir"] or "/", state_dir))
    for target in named:
        if target != volume_dir:
            problems.add(where, f"mounts a volume at {target}; the image's user owns only "
                                f"{volume_dir} (the Dockerfile's VOLUME)")
    if not any(is_within(state_dir, target) for target in named):
        problems.add(where, f"its state directory {state_dir} (offsets.state_dir) is on no "
                            "named volume")

    documents = [binaries[binary_name] / "README.md", binaries[binary_name] / "connector.toml",
                 source_dir / "README.md", source_dir / "docs/author-guide.md"]
    documentation = "\n".join(doc.read_text() for doc in documents if doc.is_file())
    for variable in env:
        override = SDK_OVERRIDE.match(variable)
        if re.search(rf"\b{re.escape(variable)}\b", documentation) or variable in config_env_names:
            continue
        if override and "DANUBE_CONNECT__" in documentation and \
                f"{override.group(1).lower()}.{override.group(2).lower()}" in settings:
            continue
        problems.add(where, f"sets {variable}, which {binary_name}'s documentation "
                            f"({', '.join(str(d.relative_to(source_dir)) for d in documents if d.is_file())}) "
                            f"and {config_file.name} never name")

    test = (service.get("healthcheck") or {}).get("test") or []
    test = test.split() if isinstance(test, str) else test
    words = " ".join(test[1:]).split() if test[:1] == ["CMD-SHELL"] else test[1:]
    if service.get("healthcheck", {}).get("disable") or test[:1] not in (["CMD"], ["CMD-SHELL"]) \
            or not words or words[0] not in docker["tools"] or words[1:] != [metrics_port]:
        problems.add(where, f"healthcheck {test} is not the image's "
                            f"{'/'.join(sorted(docker['tools']))} on processing.metrics_port "
                            f"({metrics_port})")
    return binary_name


def check_other_service(name, service, image_rows, problems):
    where = f"service {name}"
    image = service.get("image", "")
    if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
        problems.add(where, f"image {image!r} is not pinned to a version")
    if image not in image_rows:
        problems.add(where, f"image {image!r} is not in compose/README.md's images table")
        return
    documented = image_rows[image]
    for port in container_ports(service):
        if port not in documented:
            problems.add(where, f"publishes port {port}, which compose/README.md's row for {image} "
                                "does not name")
    for volume in service.get("volumes", []):
        target = split_volume(volume)[1]
        if target not in documented:
            problems.add(where, f"mounts {target}, which compose/README.md's row for {image} "
                                "does not name")
    for variable in as_mapping(service.get("environment")):
        if variable not in documented:
            problems.add(where, f"sets {variable}, which compose/README.md's row for {image} "
                                "does not name")


def check_raw_secrets(raw, problems):
    for name, service in (raw.get("services") or {}).items():
        for variable, value in as_mapping((service or {}).get("environment")).items():
            if SECRET_NAME.search(variable) and not (
                    isinstance(value, str) and re.fullmatch(REQUIRED_VARIABLE, value.strip())):
                problems.add(f"service {name}", f"{variable} is written in the file; a secret "
                                                f"comes from the environment as "
                                                f"${{{variable}:?message}}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True, type=Path)
    parser.add_argument("--build-dir", required=True, type=Path)
    parser.add_argument("--project-directory", type=Path)
    parser.add_argument("--require-every-connector", action="store_true")
    parser.add_argument("compose_file", type=Path)
    args = parser.parse_args()

    problems = Problems(args.compose_file)
    source_dir = args.source_dir.resolve()
    docker = dockerfile_facts(source_dir / "compose/Dockerfile")
    binaries = connector_binaries(source_dir)
    for binary in sorted(set(binaries) - docker["binaries"]):
        problems.add("compose/Dockerfile", f"does not build the connector {binary}")
    if docker["stages"] < 2 or docker["base"] != "debian:bookworm-slim":
        problems.add("compose/Dockerfile", f"has {docker['stages']} stage(s), the last from "
                                           f"{docker['base']}; expected a build stage and a "
                                           "debian:bookworm-slim runtime stage")
    if docker["user"] in (None, "root", "0") or not docker["volume"]:
        problems.add("compose/Dockerfile", f"runtime stage runs as {docker['user']!r} with volume "
                                           f"{docker['volume']!r}; expected a non-root user and "
                                           "its state volume")

    raw_text = args.compose_file.read_text()
    check_raw_secrets(yaml.safe_load(raw_text) or {}, problems)
    status, output, errors = compose_config(args.compose_file, args.project_directory, raw_text)
    if status != 0:
        problems.add("docker-compose config", f"exit {status}: {errors}")
    else:
        config = yaml.safe_load(output)
        context = {"source_dir": source_dir, "build_dir": args.build_dir.resolve(),
                   "binaries": binaries, "docker": docker, "commands": set()}
        image_rows = readme_image_rows(source_dir / "compose/README.md")
        for name, service in sorted(config.get("services", {}).items()):
            if "build" in service:
                check_connector_service(name, service, context, problems)
            else:
                check_other_service(name, service, image_rows, problems)
        if args.require_every_connector:
            for binary in sorted(set(binaries) - context["commands"]):
                problems.add("services", f"no service runs the connector {binary}")

    for problem in problems.items:
        print(problem)
    if problems.items:
        return 1
    print(f"ok: {args.compose_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
