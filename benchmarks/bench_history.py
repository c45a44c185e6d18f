"""Per-email cost against the length of a profile's order history, side by side.

Run:  .venv/bin/python benchmarks/bench_history.py [--rounds 5] [--templates win_back,recommendations]

One recipient, given as a dict as a caller would, with 10, 50, 1,000 and
10,000 orders (oldest first, one item each), rendered with ``engine.render``
in alternating rounds; each figure is the median over rounds of the CPU
time per email, and the ratio is against the 10-order profile of the same
round. Past ``Limits.history`` (50) the older orders are not read: the
cost should stop growing there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer import Engine  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402

SIZES = (10, 50, 1_000, 10_000)


def profile(orders: int) -> dict:
    """A recipient with ``orders`` orders, oldest first, three days apart."""
    history = []
    for i in range(orders):
        placed = FIXTURE_NOW - timedelta(days=3 * (orders - i), hours=i % 24)
        price = 40 + i % 50
        history.append({"id": f"o{i}", "placed_at": placed.strftime("%Y-%m-%dT%H:%M:%SZ"), "total": price,
                        "currency": "USD",
                        "items": [{"product_id": f"P{i % 30}", "name": "Linen Throw", "price": price,
                                   "url": "https://fernhill.example/p/linen-throw",
                                   "image_url": "https://cdn.fernhill.example/products/linen-throw.png"}]})
    return {"id": "c1", "email": "ana@example.com", "first_name": "Ana", "locale": "en-US",
            "engagement": {"emails_received": 40, "opens": 12, "clicks": 3}, "orders": history}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--templates", default="win_back,recommendations")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    engine = Engine(auto_reload=False)
    fixtures = FixtureSet.default()
    recommendations = fixtures.recommendations("default")
    profiles = {size: profile(size) for size in SIZES}
    print(f"{'template':<18}" + "".join(f"{f'{size:,} orders':>20}" for size in SIZES))
    for template in args.templates.split(","):
        event = fixtures.event(engine.compiled(template).spec.event)
        times: dict[int, list[float]] = {size: [] for size in SIZES}
        for _ in range(args.rounds):
            for size, data in profiles.items():
                repeat = 5 if size >= 1_000 else 20
                start = time.process_time()
                for _ in range(repeat):
                    engine.render(template, profile=data, recommendations=recommendations, event=event,
                                  now=FIXTURE_NOW)
                times[size].append((time.process_time() - start) / repeat)
        base = statistics.median(times[SIZES[0]])
        cells = "".join(f"{statistics.median(times[size]) * 1e6:>10.0f} µs {statistics.median(times[size]) / base:>5.2f}x"
                        for size in SIZES)
        print(f"{template:<18}{cells}")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
