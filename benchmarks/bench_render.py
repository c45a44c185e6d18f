"""Per-recipient time: reference path vs fast path, measured side by side.

Run:  .venv/bin/python benchmarks/bench_render.py [--rounds 5] [--fast 400] [--reference 10]

Both paths render the same template x fixture requests, alternating in
rounds so that machine noise hits both alike; the table shows the median
per-recipient time of each and their ratio. Compilation happens before timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer import Engine  # noqa: E402
from renderer.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402


def per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fast", type=int, default=400, help="fast renders per round")
    parser.add_argument("--reference", type=int, default=10, help="reference renders per round")
    parser.add_argument("--profile", default="frequent_high_spender")
    args = parser.parse_args()

    engine = Engine(auto_reload=False)
    fixtures = FixtureSet.default()
    print(f"{'template':<20} {'reference':>12} {'fast':>10} {'ratio':>8}")
    ratios = []
    for template in engine.template_names():
        spec = engine.compiled(template).spec
        request = {
            "profile": fixtures.profile(args.profile),
            "recommendations": fixtures.recommendations(args.profile),
            "event": fixtures.event(spec.event),
            "now": FIXTURE_NOW,
        }
        fast_times, reference_times = [], []
        for _ in range(args.rounds):
            fast_times.append(per_call(lambda: engine.render(template, **request), args.fast))
            reference_times.append(per_call(lambda: engine.render_reference(template, **request), args.reference))
        fast, reference = statistics.median(fast_times), statistics.median(reference_times)
        ratios.append(reference / fast)
        print(f"{template:<20} {reference * 1e3:>9.2f} ms {fast * 1e6:>7.0f} µs {reference / fast:>7.0f}x")
    print(f"{'geometric mean':<20} {'':>12} {'':>10} {statistics.geometric_mean(ratios):>7.0f}x")


if __name__ == "__main__":
    main()
