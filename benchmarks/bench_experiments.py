"""Per-recipient cost of an experiment: the recommendations email without, with one and with two, side by side.

Run:  .venv/bin/python benchmarks/bench_experiments.py [--recipients 400] [--rounds 7]

Three copies of the bundled content differ only in templates/recommendations.yaml:

- none: no experiments (the control's subject and headline, as before experiments),
  twice: the second copy ("A/A") shows how far two identical engines differ here;
- unused: an experiment that no value reads (the assignment and the header alone);
- one: hero_test only (two headlines and a 5% holdout);
- two: the bundled file (hero_test and subject_test).

Each is rendered with ``engine.render`` for the same synthetic audience,
interleaved recipient by recipient (each engine first in turn) so that
machine noise hits all alike; a figure is the median of every call, and the
difference is paired: the median of (with - without) for the same
recipient in the same turn. The compiled templates alone (subject,
preheader, HTML, text over prepared contexts) show what the branches cost,
and one compiled template rendered with and without its experiment (the
same engine, caches and memory) what the experiment's code path costs: two
separately built engines can differ by several microseconds here for no
reason of their own (the A/A pair), so those two figures are the cost. The assignment alone
(``audience.experiments.assign``: one SHA-256 per experiment) and the two
hashes hashlib offers are timed too. The load average is printed: on a shared
machine the absolute numbers move, the differences less so.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from renderer import Engine  # noqa: E402
from renderer.audience.experiments import assign  # noqa: E402
from renderer.recipient.pipeline import prepare, render_prepared  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402
from renderer.devtools.synthetic import generate_profiles  # noqa: E402
from renderer.sandbox.environments import render_fast  # noqa: E402

SUBJECT_TEST = """  subject_test:
    description: A subject that names the season against the one that promises picks.
    variants: {picks: 50, winter: 50}
"""
SUBJECT = """subject:
  picks: "{% if FirstName %}{{ FirstName }}, a{% else %}A{% endif %} few things we think you'll like"
  winter: "{% if FirstName %}{{ FirstName }}, your{% else %}Your{% endif %} winter picks are in"
"""
PLAIN_SUBJECT = """subject: "{% if FirstName %}{{ FirstName }}, a{% else %}A{% endif %} few things we think you'll like"
"""
HEADLINE = """      headline:
        A: The slow season edit
        B: Settle in for winter
"""


def variants_of(text: str) -> dict[str, str]:
    """The template's text with two, one and no experiments."""
    if SUBJECT_TEST not in text or SUBJECT not in text or HEADLINE not in text:
        sys.exit("templates/recommendations.yaml is not the bundled one; update this benchmark's texts")
    one = text.replace(SUBJECT_TEST, "").replace(SUBJECT, PLAIN_SUBJECT)
    start, end = one.index("experiments:\n"), one.index(PLAIN_SUBJECT)
    none = (one[:start] + one[end:]).replace(HEADLINE, "      headline: The slow season edit\n")
    # "again" is a second engine with no experiments: its difference from "none" is this
    # method's own noise floor (an A/A comparison).
    # "unused" declares an experiment that no value reads: the assignment and the header alone.
    unused = none.replace("blocks:\n", "experiments:\n  unused_test:\n    variants: {A: 1, B: 1}\nblocks:\n", 1)
    return {"none": none, "again": none, "unused": unused, "one": one, "two": text}


def content(folder: Path, template: str) -> Path:
    for name in ("templates", "blocks", "locales"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "segments.yaml", folder / "segments.yaml")
    (folder / "templates" / "recommendations.yaml").write_text(template, encoding="utf-8")
    return folder


def mean_seconds(function, items) -> float:
    start = time.perf_counter()
    for item in items:
        function(item)
    return (time.perf_counter() - start) / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    texts = variants_of((ROOT / "templates" / "recommendations.yaml").read_text(encoding="utf-8"))
    profiles = list(generate_profiles(args.recipients, seed=11, now=FIXTURE_NOW))
    recommendations = FixtureSet.default().recommendations("default")
    request = {"recommendations": recommendations, "now": FIXTURE_NOW, "transactional": True}
    with tempfile.TemporaryDirectory() as scratch:
        engines = {name: Engine(content=content(Path(scratch) / name, text), auto_reload=False)
                   for name, text in texts.items()}
        prepared: dict[str, list] = {}
        compiled = {name: (c.subject, c.preheader, c.html, c.text)
                    for name, c in ((n, e.compiled("recommendations")) for n, e in engines.items())}
        for name, engine in engines.items():  # compile, warm the caches, check what each renders
            email = engine.render("recommendations", profile=profiles[0], **request)
            assert len(email.variants) == {"none": 0, "again": 0, "unused": 1, "one": 1, "two": 2}[name], (name, email.variants)
            prepared[name] = []
            for profile in profiles:
                _, ready = engine.prepare("recommendations", profile=profile, **request)
                ready.context.update(Subject=email.subject, Preheader=email.preheader)
                prepared[name].append(ready.context)
        # Interleaved per recipient, each engine first in turn: rounds of one engine after another
        # let the machine's drift (other work, CPU frequency) land on one of them.
        full: dict[str, list[float]] = {name: [] for name in engines}
        parts: dict[str, list[float]] = {name: [] for name in engines}
        order = list(engines)
        clock = time.perf_counter
        for round_ in range(args.rounds):
            for index, profile in enumerate(profiles):
                turn = (index + round_) % len(order)
                for name in order[turn:] + order[:turn]:
                    start = clock()
                    engines[name].render("recommendations", profile=profile, **request)
                    full[name].append(clock() - start)
                    context = prepared[name][index]
                    start = clock()
                    for part in compiled[name]:
                        render_fast(part, context)
                    parts[name].append(clock() - start)
        # The same engine and compiled template, with and without its (unused) experiment: the
        # experiment's code path alone (assignment, trace, header), nothing else different.
        unused = engines["unused"]
        stripped: dict[str, list[float]] = {"with": [], "without": []}
        for round_ in range(args.rounds):
            for index, profile in enumerate(profiles):
                language = unused.language_for(profile.get("locale"))
                with_it = unused.compiled("recommendations", language)
                without = replace(with_it, spec=replace(with_it.spec, experiments={}))
                pair = [("with", with_it), ("without", without)]
                for label, template in pair if (index + round_) % 2 else pair[::-1]:
                    start = clock()
                    ready = prepare(template, profile, recommendations=recommendations, event=None, now=FIXTURE_NOW,
                                    brand=template.brand, rules=unused.rules(), transactional=True)
                    render_prepared(template, ready)
                    stripped[label].append(clock() - start)
        experiments = engines["one"].compiled("recommendations").spec.experiments
        ids = [p["id"] for p in profiles] * 25
        assigning = [mean_seconds(lambda i: assign(experiments, i), ids) for _ in range(args.rounds)]
        keys = [f"hero_test\x1f\x1f{i}".encode() for i in ids]
        sha = min(mean_seconds(lambda k: hashlib.sha256(k).digest(), keys) for _ in range(args.rounds))
        blake = min(mean_seconds(lambda k: hashlib.blake2b(k, digest_size=8).digest(), keys)
                    for _ in range(args.rounds))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; "
          f"{args.recipients} recipients x {args.rounds} rounds, recommendations email")
    print("  (median of every call, us; paired: the median of each call's difference from the same")
    print("   recipient's call without experiments in the same turn)")

    def row(label: str, values: list[float], base: list[float] | None = None) -> None:
        extra = ""
        if base is not None:
            paired = statistics.median(a - b for a, b in zip(values, base))
            extra = f"   paired {paired * 1e6:+6.1f} vs none"
        print(f"  {label:<30} {statistics.median(values) * 1e6:8.1f}{extra}")

    row("render, no experiment", full["none"])
    row("render, no experiment (A/A)", full["again"], full["none"])
    row("render, one unused experiment", full["unused"], full["none"])
    row("render, one experiment", full["one"], full["none"])
    row("render, two experiments", full["two"], full["none"])
    row("templates, no experiment", parts["none"])
    row("templates, no experiment (A/A)", parts["again"], parts["none"])
    row("templates, one experiment", parts["one"], parts["none"])
    row("templates, two experiments", parts["two"], parts["none"])
    row("same template, experiment off", stripped["without"])
    row("same template, experiment on", stripped["with"], stripped["without"])
    row("assignment, one experiment", assigning)
    print(f"  (hash alone: sha256 {sha * 1e6:.2f} us, blake2b-64 {blake * 1e6:.2f} us)")
    branches = statistics.median(a - b for a, b in zip(parts["one"], parts["none"]))
    path = statistics.median(a - b for a, b in zip(stripped["with"], stripped["without"]))
    one = max(path, 0.0) + max(branches, 0.0)
    print(f"one experiment's own cost (its code path + its branches): {one * 1e6:.1f} us per recipient "
          "(target < 5 us)")


if __name__ == "__main__":
    main()
