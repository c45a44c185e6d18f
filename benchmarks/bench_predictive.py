"""Per-recipient cost of the predictive model and the co-purchase recommender, side by side.

Run:  .venv/bin/python benchmarks/bench_predictive.py [--recipients 400] [--rounds 7]

Fits both models once (the ``ml`` extra) on synthetic customers with planted
behaviour (renderer.devtools.planted, fixed seeds), then measures, in
alternating rounds so that machine noise hits all alike:

- predict: ``Predictive.predict`` alone, as the rules call it (the features and
  the order history from ``derive_with_history``'s one pass over the orders, two
  dot products, two bisections); "predict, own sort" is the same call without
  that history, so that it reads the orders again (``history()``, as a fit does);
- derive / derive + history: the features alone, and with the history that the
  predictive columns read (what the shared pass adds);
- prepare without / with: ``engine.prepare`` (validation, features, rules,
  context) on an Engine without and with ``predictive=``, interleaved recipient
  by recipient (each engine first in turn), with a second Engine without the
  model (A/A) to show how far two engines differ here for no reason of their own;
- same, model off / on: ``recipient.pipeline.prepare`` on one engine's compiled
  template and rules, with ``predictive=None`` and with the model: what the
  model's code path costs, without two engines' differences;
- co-purchase fetch: ``CoPurchaseRecommendations.fetch`` per recipient.

Each figure is the CPU time of this process per recipient, the median and
the best of the rounds' means (the rows other than prepare each first in
turn, and each after an untimed pass over the same items). What scoring adds to a recipient is ``prepare
with`` minus ``prepare without``: printed as the median of the paired
differences (the same recipient in the same turn, every call of every round),
and as the difference of the two rows' medians and bests. The load average is
printed, since the machine may be shared (a busy machine inflates even CPU
time: caches are shared too).
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
from renderer.audience.features import derive, derive_with_history  # noqa: E402
from renderer.audience.fit.copurchase import fit_copurchase, read_catalog, read_histories  # noqa: E402
from renderer.audience.fit.predictive import fit_predictive, read_examples  # noqa: E402
from renderer.audience.predictive import Predictive, dump_predictive  # noqa: E402
from renderer.base.models import Profile  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW  # noqa: E402
from renderer.devtools.planted import generate_planted_profiles, planted_catalog  # noqa: E402
from renderer.recipient.pipeline import prepare  # noqa: E402
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
    scored = [(p, *derive_with_history(p, FIXTURE_NOW)) for p in parsed]
    payload = catalog[:8]
    # A second engine without the model (A/A): how far two engines differ here with no model at all.
    engines = {"prepare without": plain, "prepare with": predictive, "without, A/A": Engine(auto_reload=False)}
    for engine in engines.values():
        engine.prepare(args.template, profile=audience[0], recommendations=payload, now=FIXTURE_NOW)
    compiled, rules = predictive.compiled(args.template), predictive.rules()

    def same_template(engine):
        # One engine's compiled template and caches, with and without the model (asked of the engine
        # per call, as engine.prepare does): the model's own path.
        def run(profile):
            prepare(compiled, profile, recommendations=payload, event=None, now=FIXTURE_NOW, brand=compiled.brand,
                    rules=rules, predictive=engine.predictive())
        return run

    calling = {name: (lambda p, e=engine: e.prepare(args.template, profile=p, recommendations=payload,
                                                    now=FIXTURE_NOW)) for name, engine in engines.items()}
    calling.update({"same, model off": same_template(plain), "same, model on": same_template(predictive)})

    def score(item):
        model.predict(item[0], item[1], FIXTURE_NOW, item[2])

    def score_sorting(item):
        model.predict(item[0], item[1], FIXTURE_NOW)

    def features(profile):
        derive(profile, FIXTURE_NOW)

    def features_and_history(profile):
        derive_with_history(profile, FIXTURE_NOW)

    def fetch(profile):
        recommender.fetch(profile, 8)

    runs = {"predict": (score, scored), "predict, own sort": (score_sorting, scored),
            "derive": (features, parsed), "derive + history": (features_and_history, parsed),
            "co-purchase fetch": (fetch, parsed)}
    results: dict[str, list[float]] = {name: [] for name in [*runs, *calling]}
    calls: dict[str, list[float]] = {name: [] for name in calling}
    clock = time.process_time
    for round_ in range(args.rounds):
        # Each row first in turn, after an untimed pass: the row before (or the last round's
        # prepare calls) leaves the caches cold, and the first row of a round pays for it.
        rows = list(runs)
        for name in rows[round_ % len(rows):] + rows[:round_ % len(rows)]:
            function, items = runs[name]
            mean_seconds(function, items)
            results[name].append(mean_seconds(function, items))
        # The engines recipient by recipient, each first in turn: the calls of one recipient share
        # the machine's state, and their differences are what the model adds.
        spent = dict.fromkeys(calling, 0.0)
        names = list(calling)
        for index, profile in enumerate(audience):
            turn = (index + round_) % len(names)
            for name in names[turn:] + names[:turn]:
                call = calling[name]
                start = clock()
                call(profile)
                took = clock() - start
                calls[name].append(took)
                spent[name] += took
        for name in calling:
            results[name].append(spent[name] / len(audience))
    median = {name: statistics.median(values) * 1e6 for name, values in results.items()}
    best = {name: min(values) * 1e6 for name, values in results.items()}
    def paired_us(name: str, base: str) -> float:
        return statistics.median(a - b for a, b in zip(calls[name], calls[base])) * 1e6

    paired = paired_us("prepare with", "prepare without")
    buyers = sum(1 for p in parsed if p.orders)
    orders = statistics.mean(len(p.orders) for p in parsed)
    load = os.getloadavg()
    print(f"{len(audience)} recipients ({buyers} buyers, {orders:.1f} orders each on average), "
          f"template {args.template}, {args.rounds} rounds; load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'CPU µs per recipient':<20} {'median':>8} {'best':>8}")
    for name in ("predict", "predict, own sort", "derive", "derive + history", "prepare without", "prepare with",
                 "without, A/A", "same, model off", "same, model on", "co-purchase fetch"):
        print(f"{name:<20} {median[name]:8.1f} {best[name]:8.1f}")
    print(f"{'with - without':<20} {median['prepare with'] - median['prepare without']:8.1f} "
          f"{best['prepare with'] - best['prepare without']:8.1f}")
    print(f"paired: two engines without the model (A/A) {paired_us('without, A/A', 'prepare without'):+.1f} µs; "
          f"one compiled template, model on - off {paired_us('same, model on', 'same, model off'):+.1f} µs")
    print(f"scoring adds {paired:.1f} µs per recipient (prepare with - without, median of "
          f"{len(calls['prepare with'])} paired calls; target < 10 µs); predict alone "
          f"{median['predict']:.1f} µs (best {best['predict']:.1f})")


if __name__ == "__main__":
    main()
