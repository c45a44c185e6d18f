"""Batch throughput with 1 and 2 workers, and peak memory at 10k and 100k recipients.

Run:  .venv/bin/python benchmarks/bench_batch.py [--throughput 10000,30000] [--rounds 3] [--rss 10000,100000]

Each measurement runs ``renderer batch recommendations --out -`` in a fresh
process over a synthetic audience (fixed seed), with output to /dev/null;
1-worker and 2-worker runs alternate so that machine noise hits both alike.
Each round also starts two independent 1-worker runs at once: two processes
that share nothing but the machine. Their combined rate over one run's rate
is as much as any 2-worker run can get on this machine at that time (on a
virtual machine, often well under 2: the cores share caches, memory and the
host), so the 2-worker figure is printed beside it.
Throughput is measured at each audience size given: a run has fixed costs
(starting the workers; each worker compiles the template once per language
its recipients read) that a larger audience spreads thinner.
Every run shares one compile cache folder (``RENDERER_COMPILE_CACHE``, a
temporary folder), filled by a warm-up run first: what a second run of the
same content meets, and what ``renderer batch`` does by default. One
alternating pair at the first size runs with the cache off, as a first run
(or ``RENDERER_COMPILE_CACHE=off``) would: every language compiled in the run.
The package's bytecode is compiled first, as installing a wheel does: with
``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` yet, every run would
otherwise compile the package's sources again (about 0.1 s of start-up).
Peak RSS is the largest resident set of the batch process and its workers,
read with getrusage in a wrapper process. ``render_many`` (the Python API)
is measured in this process over a list of requests, 1 and 2 workers
alternating, after one warm-up pass.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from renderer.content.fixtures import FIXTURE_NOW  # noqa: E402
from renderer.devtools.synthetic import generate_profiles, write_jsonl  # noqa: E402

_WRAPPER = """
import re, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
whole = time.perf_counter() - started
seconds = re.search(r" in ([0-9.]+) s ", done.stderr).group(1)
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, whole)
"""


def _batch_command(profiles: Path, workers: int) -> list[str]:
    return [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "renderer", "batch", "recommendations",
            "--profiles", str(profiles), "--out", "-", "--workers", str(workers),
            "--now", FIXTURE_NOW.isoformat(),
            "--recommendations", str(ROOT / "fixtures/recommendations/default.json")]


def _measured(output: str) -> tuple[float, int, float]:
    seconds, rss, whole = output.split()
    return float(seconds), int(rss), float(whole)


def run_batch(profiles: Path, workers: int, cache: str) -> tuple[float, int, float]:
    """(seconds of the render loop as the batch reports it, peak RSS in KiB, seconds of the whole
    process: start-up, compiling, rendering, writing) of one run."""
    done = subprocess.run(_batch_command(profiles, workers), check=True, capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "RENDERER_COMPILE_CACHE": cache})
    return _measured(done.stdout)


def run_pair(profiles: Path, cache: str) -> list[tuple[float, int, float]]:
    """Two independent 1-worker runs over the same audience, started together: what the machine gives
    two processes that share nothing but the cores (the ceiling of any 2-worker run)."""
    env = {**os.environ, "RENDERER_COMPILE_CACHE": cache}
    started = [subprocess.Popen(_batch_command(profiles, 1), stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
               for _ in range(2)]
    outputs = [process.communicate()[0] for process in started]
    if any(process.returncode for process in started):
        raise SystemExit("a batch of the independent pair failed")
    return [_measured(output) for output in outputs]


def render_many_rates(count: int, rounds: int) -> tuple[float, float]:
    """(emails/s with workers=1, with workers=2) of render_many over a list of requests, alternating."""
    from renderer import Engine, RenderRequest, render_many
    from renderer.base.models import parse_products
    from renderer.content.fixtures import FixtureSet

    engine = Engine(auto_reload=False)
    recommendations = parse_products(FixtureSet.default().recommendations("default"))
    requests = [RenderRequest("recommendations", profile, recommendations, now=FIXTURE_NOW)
                for profile in generate_profiles(count, seed=5, now=FIXTURE_NOW)]
    # Warm once (every language compiled, caches filled): both runs then start from the same engine.
    for _ in render_many(requests[:2000], engine=engine):
        pass
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for workers in (1, 2):
            started = time.perf_counter()
            done = sum(1 for _ in render_many(requests, engine=engine, workers=workers))
            rates[workers].append(done / (time.perf_counter() - started))
    return statistics.median(rates[1]), statistics.median(rates[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput", default="10000,30000",
                        help="audience sizes for the 1 vs 2 workers runs (comma-separated)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rss", default="10000,100000", help="audience sizes for peak RSS")
    parser.add_argument("--api", type=int, default=10_000,
                        help="requests for render_many (the Python API), 1 vs 2 workers; 0 to skip")
    parser.add_argument("--no-pair", dest="pair", action="store_false",
                        help="skip the two independent 1-worker runs measured in each round")
    args = parser.parse_args()
    throughput_sizes = [int(n) for n in args.throughput.split(",")]
    sizes = sorted({*throughput_sizes, *(int(n) for n in args.rss.split(","))})

    compileall.compile_dir(str(ROOT / "renderer"), quiet=1)  # what a wheel's install does
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for size in sizes:
            files[size] = Path(folder) / f"audience-{size}.jsonl"
            write_jsonl(generate_profiles(size, seed=5, now=FIXTURE_NOW), files[size])
        cache = str(Path(folder) / "compiled")
        run_batch(files[throughput_sizes[0]], 1, cache)  # fills the compile cache: every language

        print(f"load average {os.getloadavg()[0]:.2f}; throughput, median of {args.rounds} alternating rounds "
              "(render loop as the batch reports it; whole process, start-up and compiling included)")
        for size in throughput_sizes:
            rates: dict[int, list[float]] = {1: [], 2: []}
            wholes: dict[int, list[float]] = {1: [], 2: []}
            ceilings: dict[str, list[float]] = {"loop": [], "whole": []}
            for _ in range(args.rounds):
                for workers in (1, 2):
                    seconds, _, whole = run_batch(files[size], workers, cache)
                    rates[workers].append(size / seconds)
                    wholes[workers].append(whole)
                if args.pair:
                    pair = run_pair(files[size], cache)
                    # Against this round's 1-worker run: the pair's emails per second, summed (loops)
                    # and over the time the later of the two took (whole processes).
                    ceilings["loop"].append(sum(size / seconds for seconds, _, _ in pair) / rates[1][-1])
                    ceilings["whole"].append(2 * wholes[1][-1] / max(whole for _, _, whole in pair))
            one, two = statistics.median(rates[1]), statistics.median(rates[2])
            one_whole, two_whole = statistics.median(wholes[1]), statistics.median(wholes[2])
            print(f"  {size:>9,} recipients  loop: 1 worker {one:>7,.0f} emails/s   "
                  f"2 workers {two:>7,.0f} emails/s   {two / one:.2f}x   "
                  f"whole process: {one_whole:.2f} s / {two_whole:.2f} s   {one_whole / two_whole:.2f}x")
            if args.pair:
                print(f"  {'':>9}   two independent 1-worker runs at once (the machine's ceiling): "
                      f"loop {statistics.median(ceilings['loop']):.2f}x   "
                      f"whole process {statistics.median(ceilings['whole']):.2f}x")
        size = throughput_sizes[0]
        cold = {workers: run_batch(files[size], workers, "off") for workers in (1, 2)}
        print(f"  {size:>9,} recipients, compile cache off, one pair: loop {cold[1][0] / cold[2][0]:.2f}x   "
              f"whole process: {cold[1][2]:.2f} s / {cold[2][2]:.2f} s   {cold[1][2] / cold[2][2]:.2f}x")

        if args.api:
            one, two = render_many_rates(args.api, args.rounds)
            print(f"render_many, {args.api:,} requests in a list, median of {args.rounds} alternating rounds")
            print(f"  1 worker {one:>7,.0f} emails/s   2 workers {two:>7,.0f} emails/s   {two / one:.2f}x")

        print("peak RSS, 1 worker (streaming)")
        peaks = {}
        for size in (int(n) for n in args.rss.split(",")):
            seconds, peaks[size], _ = run_batch(files[size], 1, cache)
            print(f"  {size:>9,} recipients  {peaks[size] / 1024:>7.1f} MiB  ({size / seconds:,.0f} emails/s)")
        if len(peaks) >= 2:
            small, large = min(peaks), max(peaks)
            print(f"  ratio {large:,} / {small:,}: {peaks[large] / peaks[small]:.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
