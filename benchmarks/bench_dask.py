"""The local engine (2 worker processes) against an embedded Dask cluster (2 workers): one table row.

Run:  .venv/bin/python benchmarks/bench_dask.py [--count 100000] [--rounds 3]

Both run ``renderer batch recommendations`` in a fresh process over the same
synthetic audience (renderer.devtools.synthetic, fixed seed) and write their output
to disk: the local engine one JSON Lines file, the dask engine a folder of
part files and a manifest (same bytes, checked once). Wall time covers the
whole command: start-up, content compile, for dask the cluster's start and
stop, the renders and the writes. Runs alternate so that noise on a shared
machine hits both alike; the row shows medians.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
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


def batch_command(profiles: Path, out: Path, engine: str) -> list[str]:
    return [sys.executable, "-m", "renderer", "batch", "recommendations", "--profiles", str(profiles),
            "--out", str(out), "--workers", "2", "--engine", engine, "--now", FIXTURE_NOW.isoformat(),
            "--recommendations", str(ROOT / "fixtures/recommendations/default.json")]


def run(profiles: Path, out: Path, engine: str) -> tuple[float, str]:
    """(wall seconds of the whole command, its summary line)."""
    started = time.perf_counter()
    done = subprocess.run(batch_command(profiles, out, engine), capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{engine} run failed ({done.returncode}): {done.stderr}")
    return wall, done.stdout.strip()


def digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                sha.update(block)
    return sha.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="recipients")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each engine")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        profiles = Path(folder) / "audience.jsonl"
        write_jsonl(generate_profiles(args.count, seed=5, now=FIXTURE_NOW), profiles)
        walls: dict[str, list[float]] = {"local": [], "dask": []}
        outputs = {"local": Path(folder) / "out.jsonl", "dask": Path(folder) / "out"}
        for round_number in range(args.rounds):
            for engine in ("local", "dask"):
                wall, summary = run(profiles, outputs[engine], engine)
                walls[engine].append(wall)
                print(f"round {round_number + 1} {engine:<5} {wall:7.1f} s  {summary}", file=sys.stderr)
            if round_number == 0:
                same = digest(sorted(outputs["dask"].glob("part-*.jsonl"))) == digest([outputs["local"]])
                print(f"dask parts identical to the local output: {same}", file=sys.stderr)
                if not same:
                    raise SystemExit("the dask output differs from the local output")
            outputs["local"].unlink()
            shutil.rmtree(outputs["dask"])

    local, dask = statistics.median(walls["local"]), statistics.median(walls["dask"])
    print(f"| recipients | local engine, workers=2 | embedded Dask cluster, 2 workers | Dask overhead |")
    print(f"| ---: | ---: | ---: | ---: |")
    print(f"| {args.count:,} | {local:.1f} s, {args.count / local:,.0f} emails/s "
          f"| {dask:.1f} s, {args.count / dask:,.0f} emails/s "
          f"| {dask - local:+.1f} s ({(dask - local) / local:+.1%}) |")
    print(f"(medians of {args.rounds} alternating runs; wall time of the whole command, output written to disk)")


if __name__ == "__main__":
    main()
