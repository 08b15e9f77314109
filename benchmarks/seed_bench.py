#!/usr/bin/env python3
"""The seed SDK beside ours, process against process, on the same embedded broker.

Driven by benchmarks/run_seed_benchmarks.sh, which builds the programs and passes their paths.
Each comparison gets a broker of its own and runs both sides on it one after the other, so a
ratio compares two processes that met the same broker on the same machine within seconds:

- sink: our `simple_sink` and the seed peer's no-op sink (`danube-seed-peer sink`) each
  subscribe, idle, are stopped (SIGSTOP) while a backlog is published, and are released to
  drain it. Ours drains all of it; the seed's runtime sleeps 100 ms per loop, so it is given a
  fixed window and its rate is what it processed in that window.
- source: our `simple_source` (strict, and on several partitions also relaxed ordering) and the
  seed peer's numbered source (`danube-seed-peer source`) publish the same numbered records;
  msgs/s while they publish, from both processes' `danube_connector_messages_processed_total`
  read every SCRAPE_S (start-up and the last partial interval left out).
- callgrind: the same processes under `valgrind --tool=callgrind`, each at two sizes n and 2n;
  instructions per record are the difference divided by n, so start-up, shutdown and the idle
  time the script waits cancel out. Nothing scrapes a process under callgrind: a sink's end is
  the one line it prints for its last record, a source's the consumer that counted all records.

Per process it also reports CPU time and voluntary context switches per record (summed over
its threads from /proc), threads, and resident memory idle and at its peak (VmHWM).
Prints one JSON line per measurement to --raw and a markdown table to stdout.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_S = 0.02  # how often the script looks at logs and /proc
# How often a running source's /metrics is read. A scrape costs our connector about 0.7 M
# instructions (the seed's about 0.06 M): at 10 per second well under 1 % of a core.
SCRAPE_S = 0.1


def log(text):
    print(text, file=sys.stderr, flush=True)


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child whose stdout and stderr go to one log file, watched through /proc."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for(self, pattern, timeout_s):
        deadline = time.monotonic() + timeout_s
        regex = re.compile(pattern, re.MULTILINE)
        while time.monotonic() < deadline:
            if regex.search(self.output()):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}) before "
                                   f"'{pattern}':\n{self.output()[-3000:]}")
            time.sleep(POLL_S)
        raise RuntimeError(f"{self.name}: no '{pattern}' within {timeout_s} s:\n"
                           f"{self.output()[-3000:]}")

    def status(self):
        fields = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.split()[0] if value.split() else ""
        return {"rss_kb": int(fields["VmRSS"]), "hwm_kb": int(fields["VmHWM"]),
                "threads": int(fields["Threads"])}

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            after_name = f.read().rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS  # utime + stime

    def voluntary_switches(self):
        # /proc/PID/status counts the main thread only; the threads' own files add up to the
        # process (threads that exited in between are missed, none of ours or the seed's do).
        total = 0
        for path in glob.glob(f"/proc/{self.pid}/task/*/status"):
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches"):
                            total += int(line.split()[1])
            except FileNotFoundError:
                pass
        return total

    def pause(self):
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)

    def stop(self):
        """SIGINT: both runtimes shut down on it (the seed's on nothing else)."""
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
            os.kill(self.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


class Sampler:
    """Peak threads and resident memory of a process while it works."""

    def __init__(self, process):
        self.process = process
        self.max_threads = 0
        self.max_rss_kb = 0

    def sample(self):
        s = self.process.status()
        self.max_threads = max(self.max_threads, s["threads"])
        self.max_rss_kb = max(self.max_rss_kb, s["rss_kb"])


def processed_total(port):
    """danube_connector_messages_processed_total over all topics, from /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("danube_connector_messages_processed_total"):
            total += float(line.rsplit(None, 1)[1])
    return int(total)


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="seed-bench-")
        self.raw = open(args.raw, "a") if args.raw else None
        self.rows = []
        self.broker = None
        self.broker_url = None
        self.sequence = 0

    # ----------------------------------------------------------------------------- plumbing

    def record(self, row):
        row["load_average"] = load_average()
        self.rows.append(row)
        if self.raw:
            self.raw.write(json.dumps(row) + "\n")
            self.raw.flush()
        log("  " + json.dumps(row))

    def workdir(self, name):
        self.sequence += 1
        path = os.path.join(self.work, f"{self.sequence:02d}-{name}")
        os.makedirs(path)
        return path

    def start_broker(self, topics):
        self.stop_broker()
        argv = [self.args.broker, "--listen", "127.0.0.1:0", "--max-unacked",
                str(self.args.max_unacked), "--log-level", "warn"]
        for topic, partitions in topics:
            argv += ["--topic", f"{topic}:partitions={partitions}" if partitions else topic]
        self.broker = Process("broker", argv, self.workdir("broker"))
        self.broker.wait_for(r"listening on", 30)
        address = re.search(r"listening on (\S+)", self.broker.output()).group(1)
        self.broker_url = f"http://{address}"

    def stop_broker(self):
        if self.broker:
            self.broker.stop()
            self.broker = None

    def publish_backlog(self, topic, count, partitions):
        argv = [self.args.client_bench, "produce", "--service-url", self.broker_url, "--topic",
                topic, "--count", str(count), "--size", str(self.args.size), "--reliable",
                "--in-flight", "64"]
        if partitions:
            argv += ["--partitions", str(partitions)]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    def config(self, name, port, section, table, ordering="strict"):
        lines = [f'danube_service_url = "{self.broker_url}"', f'connector_name = "{name}"',
                 "[processing]", f"metrics_port = {port}",
                 # the seed reads no [delivery]; ours: one publish in flight per partition
                 "[delivery]", f'ordering = "{ordering}"', f"[{section}]"]
        for key, value in table.items():
            lines.append(f"{key} = {json.dumps(value)}")
        return "\n".join(lines) + "\n"

    def spawn(self, side, role, name, config_text, callgrind=False):
        """side ours|seed, role sink|source; returns (process, metrics port, workdir)."""
        workdir = self.workdir(name)
        path = os.path.join(workdir, "connector.toml")
        with open(path, "w") as f:
            f.write(config_text)
        if side == "ours":
            argv = [self.args.our_sink if role == "sink" else self.args.our_source]
        else:
            argv = [self.args.seed_peer, role]
        if callgrind:
            argv = ["valgrind", "--tool=callgrind", "--quiet",
                    f"--callgrind-out-file={workdir}/callgrind.out.%p"] + argv
        env = dict(os.environ, CONNECTOR_CONFIG_PATH=path)
        env.pop("RUST_LOG", None)
        return Process(name, argv, workdir, env), workdir

    @staticmethod
    def ready_pattern(side):
        return r"event=runtime_running" if side == "ours" else r"Entering main processing loop"

    # ----------------------------------------------------------------------------- the sink

    def sink_topic(self, side, tag):
        return f"/default/sink-{side}-{tag}"

    def run_sink(self, side):
        a = self.args
        topic = self.sink_topic(side, "rate")
        port = free_port()
        name = f"sink-{side}"
        table = {"topic": topic, "subscription": "bench", "print_every": a.count}
        process, _ = self.spawn(side, "sink", name, self.config(name, port, "simple_sink", table))
        try:
            process.wait_for(self.ready_pattern(side), 60)
            time.sleep(a.idle_seconds)
            idle = process.status()
            process.pause()
            self.publish_backlog(topic, a.count, a.sink_partitions)
            sampler = Sampler(process)
            cpu0, switches0 = process.cpu_seconds(), process.voluntary_switches()
            start = time.monotonic()
            process.resume()
            limit = start + (a.seed_sink_seconds if side == "seed" else a.timeout)
            done = False
            while time.monotonic() < limit:
                sampler.sample()
                if re.search(r"^record ", process.output(), re.MULTILINE):
                    done = True
                    break
                time.sleep(POLL_S)
            seconds = time.monotonic() - start
            cpu, switches = process.cpu_seconds() - cpu0, process.voluntary_switches() - switches0
            sampler.sample()
            processed = a.count if done else processed_total(port)
            if side == "ours" and not done:
                raise RuntimeError(f"our sink did not drain {a.count} in {a.timeout} s")
            self.record({
                "measure": "sink", "side": side, "partitions": a.sink_partitions,
                "backlog": a.count, "size": a.size, "max_unacked": a.max_unacked, "processed": processed, "drained": done,
                "seconds": round(seconds, 3), "msgs_per_sec": processed / seconds,
                "cpu_us_per_msg": 1e6 * cpu / max(processed, 1),
                "voluntary_switches_per_msg": switches / max(processed, 1),
                "idle_rss_kb": idle["rss_kb"], "idle_threads": idle["threads"],
                "peak_rss_kb": process.status()["hwm_kb"], "max_threads": sampler.max_threads})
        finally:
            process.stop()

    # ----------------------------------------------------------------------------- the source

    def run_source(self, side, partitions, ordering):
        a = self.args
        topic = f"/default/source-{side}-{ordering}-{partitions}p"
        port = free_port()
        name = f"source-{side}-{ordering}-{partitions}p"
        table = {"topic": topic, "message_count": a.source_count, "batch_size": a.source_batch,
                 "interval_ms": 0, "partitions": partitions, "reliable": True}
        process, _ = self.spawn(side, "source", name,
                                self.config(name, port, "simple_source", table, ordering))
        try:
            # The rate runs from the first scrape that saw records published to the last that
            # saw fewer than all (both exact observations), or to the one that saw all when the
            # source was too quick for two.
            sampler = Sampler(process)
            deadline = time.monotonic() + a.timeout
            under_way = []  # (time, count, CPU s, voluntary switches) with 0 < count < all
            while True:
                if time.monotonic() > deadline or process.proc.poll() is not None:
                    raise RuntimeError(f"{name}: not all of {a.source_count} published:\n"
                                       f"{process.output()[-3000:]}")
                sampler.sample()
                try:
                    count = processed_total(port)
                except OSError:
                    count = 0  # not listening yet
                seen = (time.monotonic(), count, process.cpu_seconds(),
                        process.voluntary_switches())
                if count >= a.source_count:
                    break
                if count > 0:
                    under_way.append(seen)
                time.sleep(SCRAPE_S)
            if not under_way:
                raise RuntimeError(f"{name}: all published between two scrapes; raise the count")
            first = under_way[0]
            last = under_way[-1] if len(under_way) >= 2 else seen
            published = last[1] - first[1]
            seconds = last[0] - first[0]
            self.record({
                "measure": "source", "side": side, "partitions": partitions,
                "ordering": ordering if side == "ours" else "one send at a time",
                "count": a.source_count, "batch": a.source_batch, "measured": published,
                "seconds": round(seconds, 3), "msgs_per_sec": published / seconds,
                "cpu_us_per_msg": 1e6 * (last[2] - first[2]) / published,
                "voluntary_switches_per_msg": (last[3] - first[3]) / published,
                "peak_rss_kb": process.status()["hwm_kb"], "max_threads": sampler.max_threads})
        finally:
            process.stop()

    # ----------------------------------------------------------------------------- callgrind

    @staticmethod
    def callgrind_dump(process, workdir):
        subprocess.run(["callgrind_control", "--dump", str(process.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dumps = sorted(glob.glob(os.path.join(workdir, "callgrind.out.*.*")),
                       key=os.path.getmtime)
        if not dumps:
            raise RuntimeError(f"no callgrind dump in {workdir}")
        with open(dumps[-1]) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    return int(line.split()[1])
        raise RuntimeError(f"no totals in {dumps[-1]}")

    def callgrind_sink(self, side, records):
        """Instructions from the zeroing (stream open, idle) until `records` are processed
        and --settle-seconds more for their acks."""
        a = self.args
        topic = self.sink_topic(side, f"cg{records}")
        name = f"cg-sink-{side}-{records}"
        table = {"topic": topic, "subscription": "bench", "print_every": records}
        process, workdir = self.spawn(side, "sink", name,
                                      self.config(name, free_port(), "simple_sink", table),
                                      callgrind=True)
        try:
            process.wait_for(self.ready_pattern(side), 300)
            time.sleep(a.idle_seconds)
            subprocess.run(["callgrind_control", "--zero", str(process.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            process.pause()
            self.publish_backlog(topic, records, a.sink_partitions)
            process.resume()
            process.wait_for(r"^record ", 3600)
            time.sleep(a.settle_seconds)
            return self.callgrind_dump(process, workdir)
        finally:
            process.stop()

    def callgrind_source(self, side, partitions, ordering, records):
        """Instructions from the start until a consumer has all `records`, and
        --settle-seconds more."""
        a = self.args
        topic = f"/default/cg-source-{side}-{ordering}-{records}"
        name = f"cg-source-{side}-{ordering}-{records}"
        consumer = Process(f"{name}-consumer", [
            a.client_bench, "consume", "--service-url", self.broker_url, "--topic", topic,
            "--subscription", "count", "--count", str(records), "--ack"], self.workdir(name))
        table = {"topic": topic, "message_count": records, "batch_size": a.source_batch,
                 "interval_ms": 0, "partitions": partitions, "reliable": True}
        process = None
        try:
            consumer.wait_for(r"ready", 60)
            process, workdir = self.spawn(
                side, "source", name,
                self.config(name, free_port(), "simple_source", table, ordering),
                callgrind=True)
            deadline = time.monotonic() + 3600
            while consumer.proc.poll() is None:
                if time.monotonic() > deadline or process.proc.poll() is not None:
                    raise RuntimeError(f"{name}: consumer did not get {records}:\n"
                                       f"{process.output()[-3000:]}")
                time.sleep(POLL_S)
            time.sleep(a.settle_seconds)
            return self.callgrind_dump(process, workdir)
        finally:
            if process:
                process.stop()
            consumer.stop()

    def callgrind_pair(self, measure, side, n, run_one, **labels):
        small, large = run_one(n), run_one(2 * n)
        self.record(dict(measure=measure, side=side, records=(n, 2 * n),
                         instructions=(small, large),
                         instructions_per_record=(large - small) / n, **labels))

    # ----------------------------------------------------------------------------- the plan

    def run(self):
        a = self.args
        log(f"work directory {self.work}; load average {load_average()}")
        if "sink" in a.only:
            log(f"sink: {a.count} x {a.size} B on {a.sink_partitions} partitions")
            self.start_broker([(self.sink_topic(s, "rate"), a.sink_partitions)
                               for s in ("ours", "seed")])
            for side in ("ours", "seed"):
                self.run_sink(side)
        if "source" in a.only:
            for partitions in a.source_partitions:
                where = f"{partitions} partitions" if partitions else "a non-partitioned topic"
                log(f"source: {a.source_count} records on {where}")
                self.start_broker([])
                self.run_source("ours", partitions, "strict")
                if partitions > 1:
                    self.run_source("ours", partitions, "relaxed")
                self.run_source("seed", partitions, "strict")
        if "callgrind" in a.only:
            log("callgrind: sinks")
            topics = [(self.sink_topic(side, f"cg{n}"), a.sink_partitions)
                      for side, base in (("ours", a.cg_count), ("seed", a.cg_seed_sink_count))
                      for n in (base, 2 * base)]
            topics += [(f"/default/cg-source-{side}-{ordering}-{n}", a.cg_source_partitions)
                       for side, ordering in (("ours", "strict"), ("ours", "relaxed"),
                                              ("seed", "strict"))
                       for n in (a.cg_count, 2 * a.cg_count)]
            self.start_broker(topics)
            self.callgrind_pair("callgrind sink", "ours", a.cg_count,
                                lambda n: self.callgrind_sink("ours", n),
                                partitions=a.sink_partitions)
            self.callgrind_pair("callgrind sink", "seed", a.cg_seed_sink_count,
                                lambda n: self.callgrind_sink("seed", n),
                                partitions=a.sink_partitions)
            log("callgrind: sources")
            for side, ordering in (("ours", "strict"), ("ours", "relaxed"), ("seed", "strict")):
                self.callgrind_pair(
                    "callgrind source", side, a.cg_count,
                    lambda n: self.callgrind_source(side, a.cg_source_partitions, ordering, n),
                    partitions=a.cg_source_partitions,
                    ordering=ordering if side == "ours" else "one send at a time")
        self.stop_broker()


def print_table(rows):
    """One markdown table: the seed's figure, ours, and ours / seed in the same run."""

    def find(measure, side, **labels):
        for row in rows:
            if row["measure"] == measure and row["side"] == side and all(
                    row.get(k) == v for k, v in labels.items()):
                return row
        return None

    def line(measure, seed, ours, keys, digits):
        """keys: the fields shown (several joined by ' / '); digits: decimals per field."""
        def show(row):
            return " / ".join(f"{row[k]:.{d}f}" for k, d in zip(keys, digits))
        ratio = " / ".join(f"{ours[k] / seed[k]:.2f}x" if seed[k] else "-" for k in keys)
        print(f"| {measure} | {show(seed)} | {show(ours)} | {ratio} |")

    for row in rows:  # memory in MB, instructions in thousands
        for key in ("idle_rss_kb", "peak_rss_kb"):
            if key in row:
                row[key.replace("_kb", "_mb")] = row[key] / 1024
        if "instructions_per_record" in row:
            row["k_instructions_per_record"] = row["instructions_per_record"] / 1000

    print("| measure | seed SDK | ours | ours / seed |")
    print("|---|---|---|---|")
    seed, ours = find("sink", "seed"), find("sink", "ours")
    if seed and ours:
        print(f"| sink: drain {ours['backlog']} x {ours['size']} B, {ours['partitions']} "
              f"partitions, window {ours['max_unacked']}: msgs/s | {seed['msgs_per_sec']:.1f} "
              f"({seed['processed']} in {seed['seconds']:.0f} s) | {ours['msgs_per_sec']:.0f} | "
              f"{ours['msgs_per_sec'] / seed['msgs_per_sec']:.0f}x |")
        line("sink: CPU µs / voluntary context switches per record", seed, ours,
             ("cpu_us_per_msg", "voluntary_switches_per_msg"), (0, 2))
        line("sink: threads idle / draining (most)", seed, ours,
             ("idle_threads", "max_threads"), (0, 0))
        line("sink: RSS MB idle / peak (VmHWM)", seed, ours, ("idle_rss_mb", "peak_rss_mb"),
             (1, 1))
    for partitions in sorted({r["partitions"] for r in rows if r["measure"] == "source"}):
        seed = find("source", "seed", partitions=partitions)
        where = f"{partitions} partitions" if partitions else "a non-partitioned topic"
        for ordering in ("strict", "relaxed"):
            ours = find("source", "ours", partitions=partitions, ordering=ordering)
            if not (seed and ours):
                continue
            line(f"source: {ours['count']} records, {where}, ours {ordering}: msgs/s", seed,
                 ours, ("msgs_per_sec",), (0,))
            line(f"source ({where}, {ordering}): CPU µs / voluntary switches per record", seed,
                 ours, ("cpu_us_per_msg", "voluntary_switches_per_msg"), (0, 2))
            line(f"source ({where}, {ordering}): threads (most) / peak RSS MB", seed, ours,
                 ("max_threads", "peak_rss_mb"), (0, 1))
    seed, ours = find("callgrind sink", "seed"), find("callgrind sink", "ours")
    if seed and ours:
        line(f"callgrind: sink, thousand instructions per record ({ours['partitions']} "
             f"partitions; seed {seed['records'][0]}/{seed['records'][1]}, ours "
             f"{ours['records'][0]}/{ours['records'][1]} records)", seed, ours,
             ("k_instructions_per_record",), (0,))
    seed = find("callgrind source", "seed")
    for ordering in ("strict", "relaxed"):
        ours = find("callgrind source", "ours", ordering=ordering)
        if seed and ours:
            line(f"callgrind: source, thousand instructions per record "
                 f"({ours['partitions']} partitions, {ordering}; "
                 f"{ours['records'][0]}/{ours['records'][1]} records)", seed, ours,
                 ("k_instructions_per_record",), (0,))
    loads = [row["load_average"].split()[0] for row in rows]
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), "?")
    print()
    print(f"machine: {os.cpu_count()} cores ({model}); load average (1 min) after each "
          f"measurement: {', '.join(loads)}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--broker")
    p.add_argument("--our-sink")
    p.add_argument("--our-source")
    p.add_argument("--seed-peer")
    p.add_argument("--client-bench")
    p.add_argument("--only", default="sink,source,callgrind")
    p.add_argument("--count", type=int, default=20000, help="the sink's backlog")
    p.add_argument("--size", type=int, default=100, help="backlog payload bytes")
    p.add_argument("--sink-partitions", type=int, default=4)
    p.add_argument("--max-unacked", type=int, default=1000, help="the broker's window")
    p.add_argument("--seed-sink-seconds", type=float, default=30)
    p.add_argument("--idle-seconds", type=float, default=3)
    p.add_argument("--source-count", type=int, default=20000)
    p.add_argument("--source-batch", type=int, default=100, help="records per poll()")
    p.add_argument("--source-partitions", default="0,4",
                   help="comma-separated; 0 = a non-partitioned topic")
    p.add_argument("--cg-count", type=int, default=6000,
                   help="our callgrind runs: n and 2n records; n above the window for a steady flow")
    p.add_argument("--cg-seed-sink-count", type=int, default=100)
    p.add_argument("--cg-source-partitions", type=int, default=4)
    p.add_argument("--settle-seconds", type=float, default=1)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--raw", help="append the JSON lines here")
    p.add_argument("--table-from", metavar="RAW",
                   help="only print the table of the JSON lines saved with --raw")
    args = p.parse_args()
    args.only = args.only.split(",")
    args.source_partitions = [int(x) for x in args.source_partitions.split(",")]
    if args.table_from:
        with open(args.table_from) as f:
            print_table([json.loads(line) for line in f if line.strip()])
        return
    missing = [name for name in ("broker", "our_sink", "our_source", "seed_peer", "client_bench")
               if not getattr(args, name)]
    if missing:
        p.error("missing --" + ", --".join(name.replace("_", "-") for name in missing))
    bench = Bench(args)
    try:
        bench.run()
    except BaseException:
        log(f"logs and callgrind files kept in {bench.work}")
        raise
    finally:
        bench.stop_broker()
    shutil.rmtree(bench.work)
    print_table(bench.rows)


if __name__ == "__main__":
    main()
