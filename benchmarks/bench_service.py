"""Load test of ``renderer serve``: throughput and latency over HTTP, beside in-process ``engine.render``.

Run:  .venv/bin/python benchmarks/bench_service.py [--seconds 60] [--connections 64] [--workers 2]
      (``make bench-service``; needs the serve extra and aiohttp, in the bench extra)

What it does, in one run on this machine:

1. in-process: one ``Engine`` renders the same requests in a loop for
   ``--inprocess-seconds`` (one process, one core: what a Python caller gets);
2. service: ``renderer serve --workers N`` is started on 127.0.0.1 (a free
   port, a random API key), and once every worker says it is ready, an
   aiohttp client keeps ``--connections`` requests in flight for
   ``--seconds``, each a ``POST /v1/render/{template}`` with a JSON body, and
   checks every answer (status 200 and a subject);
3. in-process again, so that a change in the machine's load during the run
   shows as a difference between the two in-process figures.

It prints renders/s, p50/p99 latency, errors, the ratio of the service's
throughput to the in-process one, and the load average before and after.
The client shares the machine's cores with the server: the figures are a
floor for a server that has its cores to itself. On a machine shared with
other work the wall-clock figures swing with its load, so it also prints
the CPU time per render of both sides (the server's processes read from
``/proc``): renders per second per core, which the machine's load does not
change much. It also says how many cores other work on the machine took
during each phase (all the CPUs' busy time in ``/proc/stat``, less this
run's own processes, the hypervisor's steal included): the service needs
both cores and the in-process loop one, so other work that takes one core
costs the service far more than the in-process figure, and the wall-clock
ratio with it. Traffic goes to loopback
only; the run stops by itself after ``--seconds`` (and at most
``--max-requests``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from renderer import Engine  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402
from renderer.devtools.synthetic import generate_profiles  # noqa: E402

TEMPLATES = ("welcome", "recommendations", "win_back", "engaged_incentive")


def requests_for(count: int, seed: int) -> list[tuple[str, dict]]:
    """(template, body) pairs: synthetic recipients over the templates that need no event."""
    recommendations = FixtureSet.default().recommendations("default")
    now = FIXTURE_NOW.isoformat()
    # Recipients without consent are answered 409 (no email): left out, every request is an email.
    profiles = [p for p in generate_profiles(count, seed=seed, now=FIXTURE_NOW)
                if (p.get("consent") or {}).get("email_marketing", True)]
    # Through JSON, so that both sides are given exactly what travels over HTTP.
    return [(TEMPLATES[i % len(TEMPLATES)],
             json.loads(json.dumps({"profile": profile, "recommendations": recommendations, "now": now},
                                   default=str)))
            for i, profile in enumerate(profiles)]


class MachineCpu:
    """The cores busy on the whole machine from now on, from ``/proc/stat`` (steal counted as busy)."""

    def __init__(self) -> None:
        self.started, self.busy = time.perf_counter(), self._busy_seconds()

    @staticmethod
    def _busy_seconds() -> float:
        # cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is within user)
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")

    def others(self, own_cpu_seconds: float) -> float:
        """Cores taken meanwhile by everything but ``own_cpu_seconds`` of this run's processes."""
        elapsed = time.perf_counter() - self.started
        return max(0.0, (self._busy_seconds() - self.busy - own_cpu_seconds) / elapsed)


def in_process(requests: list[tuple[str, dict]], seconds: float) -> tuple[float, float, float]:
    """(renders per second, CPU seconds per render, cores other work took meanwhile) of one Engine in
    this process, rendering ``requests`` round and round."""
    engine = Engine(auto_reload=False)
    for template, body in requests:  # compile every template and language outside the clock
        engine.render(template, profile=body["profile"], recommendations=body["recommendations"], now=FIXTURE_NOW)
    machine = MachineCpu()
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        for template, body in requests:
            engine.render(template, profile=body["profile"], recommendations=body["recommendations"],
                          now=FIXTURE_NOW)
            done += 1
    used = time.process_time() - cpu
    return done / (time.perf_counter() - started), used / done, machine.others(used)


class Server:
    """``renderer serve`` in a subprocess, ready once each worker has said so."""

    def __init__(self, workers: int) -> None:
        self.key = secrets.token_urlsafe(32)
        env = dict(os.environ, RENDERER_API_KEYS=self.key, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "renderer", "serve", "--port", "0", "--workers", str(workers)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
        self.url = ""
        ready = 0
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if match := re.search(r"at (http://\S+)/ ", line):
                self.url = match.group(1)
            if "every language compiled" in line:
                ready += 1
                if ready == workers:
                    break
        else:
            raise SystemExit(f"the server ended before it was ready (exit {self.process.wait()})")
        # Keep reading its output so that it never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server: the supervisor and its workers."""
        ticks = os.sysconf("SC_CLK_TCK")
        pids = [self.process.pid]
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        total = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


async def load(url: str, key: str, requests: list[tuple[str, dict]], *, seconds: float, connections: int,
               max_requests: int) -> tuple[int, list[float], list[str]]:
    """Keep ``connections`` requests in flight for ``seconds``; (answered, latencies, errors)."""
    import aiohttp

    bodies = [(f"{url}/v1/render/{template}", json.dumps(body).encode()) for template, body in requests]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(max_requests))
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        async def client() -> None:
            for index in counter:
                if time.perf_counter() > deadline:
                    return
                target, data = bodies[index % len(bodies)]
                started = time.perf_counter()
                try:
                    async with session.post(target, data=data) as response:
                        answer = await response.read()
                        if response.status != 200 or b'"subject"' not in answer:
                            errors.append(f"{response.status}: {answer[:200]!r}")
                except aiohttp.ClientError as error:
                    errors.append(f"{type(error).__name__}: {error}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(client() for _ in range(connections)))
    return len(latencies), latencies, errors


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load (default 60)")
    parser.add_argument("--connections", type=int, default=64, help="requests in flight (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--inprocess-seconds", type=float, default=15.0, help="each in-process measure (default 15)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop after this many requests")
    parser.add_argument("--recipients", type=int, default=400)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    requests = requests_for(args.recipients, args.seed)
    load_before = os.getloadavg()
    before, before_cpu, before_others = in_process(requests, args.inprocess_seconds)
    print(f"in-process engine.render, 1 process: {before:,.0f} renders/s "
          f"(other work meanwhile: {before_others:.1f} cores)", flush=True)

    server = Server(args.workers)
    try:
        warm = asyncio.run(load(server.url, server.key, requests, seconds=3, connections=8, max_requests=400))
        if warm[2]:
            raise SystemExit(f"warm-up errors: {warm[2][:3]}")
        machine = MachineCpu()
        started, server_cpu, client_cpu = time.perf_counter(), server.cpu_seconds(), time.process_time()
        answered, latencies, errors = asyncio.run(load(server.url, server.key, requests, seconds=args.seconds,
                                                       connections=args.connections,
                                                       max_requests=args.max_requests))
        elapsed = time.perf_counter() - started
        server_cpu, client_cpu = server.cpu_seconds() - server_cpu, time.process_time() - client_cpu
        service_others = machine.others(server_cpu + client_cpu)
    finally:
        server.stop()
    after, after_cpu, after_others = in_process(requests, args.inprocess_seconds)
    load_after = os.getloadavg()

    inproc = statistics.mean([before, after])
    rate = answered / elapsed
    print(f"in-process engine.render, 1 process (after): {after:,.0f} renders/s "
          f"(other work meanwhile: {after_others:.1f} cores)")
    print(f"service, {args.workers} workers, {args.connections} connections, {elapsed:.0f} s: "
          f"{answered:,} requests, {len(errors)} errors (other work meanwhile: {service_others:.1f} cores)")
    print(f"  throughput {rate:,.0f} renders/s; latency p50 {percentile(latencies, 0.5) * 1e3:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1e3:.1f} ms")
    print(f"  service / in-process: {rate / inproc:.2f} (in-process mean {inproc:,.0f} renders/s)")
    render_cpu = statistics.mean([before_cpu, after_cpu])
    print("CPU time per render (what a core can do, whatever else the machine runs):")
    print(f"  in-process {render_cpu * 1e3:.2f} ms ({1 / render_cpu:,.0f} renders/s per core); "
          f"service {server_cpu / answered * 1e3:.2f} ms ({answered / server_cpu:,.0f} renders/s per core), "
          f"ratio {render_cpu * answered / server_cpu:.2f}; the load client {client_cpu / answered * 1e3:.2f} ms")
    print(f"load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in load_before)}; "
          f"after: {', '.join(f'{v:.2f}' for v in load_after)}; cores: {os.cpu_count()}")
    for error in errors[:5]:
        print(f"  error: {error}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
