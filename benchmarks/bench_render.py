"""Per-recipient time of the reference path, the fast path and the floor, side by side.

Run:  .venv/bin/python benchmarks/bench_render.py [--recipients 400] [--rounds 5]

The recipients are a synthetic audience (renderer.devtools.synthetic, fixed seed) with
the bundled recommendations and, for trigger templates, the bundled event.

- reference: per recipient, Jinja on the MJML source, then MJML and CSS
  inlining (the oracle the tests compare against);
- fast: ``engine.render`` with everything a caller gets: validation,
  features and segments, token context, subject, preheader, HTML and text;
- floor: only the compiled HTML and text templates (in each recipient's language) rendered with an already
  prepared context (no validation, no features, no context building);
- validated: ``engine.render`` given the same inputs as models already
  validated (``Profile``, ``Product``, ``Event``), as a caller that holds
  them passes them: everything the fast path does but validation.

The three are measured in alternating rounds so that machine noise hits all
alike; each figure is the median over rounds of the mean per recipient, in
CPU time of this process (time spent waiting for a core on a shared machine
is not counted; the load average is printed at the start and the end).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer import Engine  # noqa: E402
from renderer.base.errors import RenderAborted  # noqa: E402
from renderer.base.models import parse_request  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402
from renderer.devtools.synthetic import generate_profiles  # noqa: E402
from renderer.sandbox.environments import render_fast  # noqa: E402


def mean_seconds(function, items) -> float:
    start = time.process_time()
    for item in items:
        function(item)
    return (time.process_time() - start) / len(items)


def measure(engine: Engine, template: str, profiles: list[dict], reference_count: int,
            rounds: int) -> tuple[float, float, float, float]:
    fixtures = FixtureSet.default()
    compiled = engine.compiled(template)
    recommendations = fixtures.recommendations("default")
    event = fixtures.event(compiled.spec.event)
    requests, validated, prepared = [], [], []
    for profile in profiles:
        request = {"profile": profile, "recommendations": recommendations, "event": event, "now": FIXTURE_NOW}
        try:
            own, ready = engine.prepare(template, **request)  # compiled in the recipient's language
        except RenderAborted:  # no consent, or a required token empty: not an email
            continue
        requests.append(request)
        models = parse_request("render request", profile, event, recommendations)
        validated.append(dict(request, profile=models[0], event=models[1], recommendations=models[2]))
        email = engine.render(template, **request)
        ready.context.update(Subject=email.subject, Preheader=email.preheader)
        prepared.append((own, ready.context))

    def fast(request):
        engine.render(template, **request)

    def floor(prepared_one):
        own, context = prepared_one
        render_fast(own.html, context)
        render_fast(own.text, context)

    def reference(request):
        engine.render_reference(template, **request)

    results: dict[str, list[float]] = {"reference": [], "fast": [], "floor": [], "validated": []}
    for _ in range(rounds):
        results["fast"].append(mean_seconds(fast, requests))
        results["floor"].append(mean_seconds(floor, prepared))
        results["validated"].append(mean_seconds(fast, validated))
        results["reference"].append(mean_seconds(reference, requests[:reference_count]))
    return tuple(statistics.median(results[k])  # type: ignore[return-value]
                 for k in ("reference", "fast", "floor", "validated"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=400)
    parser.add_argument("--reference", type=int, default=10, help="recipients per round on the reference path")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    engine = Engine(auto_reload=False)
    profiles = list(generate_profiles(args.recipients, seed=args.seed, now=FIXTURE_NOW))
    header = (f"{'template':<20} {'reference':>10} {'fast':>9} {'floor':>9} {'validated':>10} "
              f"{'ref/fast':>9} {'fast/floor':>11} {'validated/floor':>16}")
    print(f"load average {os.getloadavg()[0]:.2f} at start; {len(profiles)} synthetic recipients, "
          f"{args.rounds} rounds; per-recipient means of CPU time")
    print(header)
    print("-" * len(header))
    speedups, overheads, unvalidated = [], [], []
    for template in engine.template_names():
        reference, fast, floor, validated = measure(engine, template, profiles, args.reference, args.rounds)
        speedups.append(reference / fast)
        overheads.append(fast / floor)
        unvalidated.append(validated / floor)
        print(f"{template:<20} {reference * 1e3:>7.2f} ms {fast * 1e6:>6.0f} µs {floor * 1e6:>6.0f} µs "
              f"{validated * 1e6:>7.0f} µs {reference / fast:>8.0f}x {fast / floor:>10.2f}x "
              f"{validated / floor:>15.2f}x")
    print("-" * len(header))
    print(f"{'geometric mean':<20} {'':>10} {'':>9} {'':>9} {'':>10} {statistics.geometric_mean(speedups):>8.0f}x "
          f"{statistics.geometric_mean(overheads):>10.2f}x {statistics.geometric_mean(unvalidated):>15.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
