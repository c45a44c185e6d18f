"""Per-recipient cost of the predictive model and the co-purchase recommender, side by side.

Run:  .venv/bin/python benchmarks/bench_predictive.py [--recipients 400] [--rounds 7]

Fits both models once (the ``ml`` extra) on synthetic customers with planted
behaviour (renderer.devtools.planted, fixed seeds), then measures, in
alternating rounds so that machine noise hits all alike:

- score: ``Predictive.predict`` alone (columns from the features the rules
  derived, one pass over the orders, two dot products, two bisections);
- prepare without / with: ``engine.prepare`` (validation, features, rules,
  context) on an Engine without and with ``predictive=``; the difference is
  what the model adds to a render;
- co-purchase fetch: ``CoPurchaseRecommendations.fetch`` per recipient.

Each figure is the CPU time of this process per recipient, the median and
the best of the rounds' means; the load average is printed, since the
machine may be shared (a busy machine inflates even CPU time: caches are
shared too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer import Engine  # noqa: E402
from renderer.audience.features import derive  # noqa: E402
from renderer.audience.fit.copurchase import fit_copurchase, read_catalog, read_histories  # noqa: E402
from renderer.audience.fit.predictive import fit_predictive, read_examples  # noqa: E402
from renderer.audience.predictive import Predictive, dump_predictive  # noqa: E402
from renderer.base.models import Profile  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW  # noqa: E402
from renderer.devtools.planted import generate_planted_profiles, planted_catalog  # noqa: E402
from renderer.sources.copurchase import CoPurchaseRecommendations  # noqa: E402


def mean_seconds(function, items) -> float:
    # CPU time of this process: on a shared machine the wall clock also counts other work's turns.
    start = time.process_time()
    for item in items:
        function(item)
    return (time.process_time() - start) / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fit-profiles", type=int, default=3000)
    parser.add_argument("--template", default="recommendations")
    args = parser.parse_args()

    training = [json.dumps(p) for p in generate_planted_profiles(args.fit_profiles, seed=1, now=FIXTURE_NOW)]
    spec = fit_predictive(read_examples(training, FIXTURE_NOW), now=FIXTURE_NOW, seed=0)
    catalog = read_catalog(json.dumps(planted_catalog()), "catalog")
    recommender = CoPurchaseRecommendations(fit_copurchase(read_histories(training), catalog))
    folder = Path(tempfile.mkdtemp())
    model_path = folder / "predictive.json"
    model_path.write_text(dump_predictive(spec), encoding="utf-8")

    model = Predictive.from_spec(spec)
    plain, predictive = Engine(auto_reload=False), Engine(auto_reload=False, predictive=model_path)
    audience = list(generate_planted_profiles(args.recipients, seed=2, now=FIXTURE_NOW))
    parsed = [Profile.model_validate(p) for p in audience]
    scored = [(p, derive(p, FIXTURE_NOW)) for p in parsed]
    payload = catalog[:8]
    for engine in (plain, predictive):
        engine.prepare(args.template, profile=audience[0], recommendations=payload, now=FIXTURE_NOW)

    def score(item):
        model.predict(item[0], item[1], FIXTURE_NOW)

    def prepare_with(engine):
        def run(profile):
            engine.prepare(args.template, profile=profile, recommendations=payload, now=FIXTURE_NOW)
        return run

    def fetch(profile):
        recommender.fetch(profile, 8)

    runs = {"score": (score, scored), "prepare without": (prepare_with(plain), audience),
            "prepare with": (prepare_with(predictive), audience), "co-purchase fetch": (fetch, parsed)}
    results: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (function, items) in runs.items():
            results[name].append(mean_seconds(function, items))
    median = {name: statistics.median(values) * 1e6 for name, values in results.items()}
    best = {name: min(values) * 1e6 for name, values in results.items()}
    buyers = sum(1 for p in parsed if p.orders)
    orders = statistics.mean(len(p.orders) for p in parsed)
    print(f"{len(audience)} recipients ({buyers} buyers, {orders:.1f} orders each on average), "
          f"template {args.template}, {args.rounds} rounds; load average {os.getloadavg()[0]:.2f}")
    print(f"{'CPU µs per recipient':<20} {'median':>8} {'best':>8}")
    for name in runs:
        print(f"{name:<20} {median[name]:8.1f} {best[name]:8.1f}")
    print(f"{'predictive adds':<20} {median['prepare with'] - median['prepare without']:8.1f} "
          f"{best['prepare with'] - best['prepare without']:8.1f}")


if __name__ == "__main__":
    main()
