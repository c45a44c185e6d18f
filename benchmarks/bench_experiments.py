"""Per-recipient cost of an experiment: the recommendations email without, with one and with two, side by side.

Run:  .venv/bin/python benchmarks/bench_experiments.py [--recipients 400] [--rounds 9] [--processes 5]

Copies of the bundled content differ only in templates/recommendations.yaml:

- none: no experiments (the control's subject and headline, as before experiments),
  twice: the second copy ("A/A") shows how far two identical copies differ here;
- unused: an experiment that no value reads (the assignment and the header alone);
- one: hero_test only (two headlines and a 5% holdout);
- two: the bundled file (hero_test and subject_test).

The headline is one experiment's per-recipient overhead, hero_test's, in two
parts measured where nothing else differs:

- its code path: one compiled template rendered in full (``prepare`` and
  ``render_prepared``) with hero_test in its spec and without it (no value of
  that template reads it: the assignment, the trace, the context entry and
  the header), the same objects, caches and memory, and without it twice for
  this method's own floor (A/A);
- its branches: the compiled templates of each copy (subject, preheader, HTML,
  text, compiled from their sources side by side) over the same recipients'
  contexts, "one" against "none", and "none" against its copy (A/A).

Every comparison is paired: for each recipient, in each round, the variants
run one after the other, going through every order of them (a recipient's
first render runs colder than the next, so a fixed or rotated order would
favour one); a figure is the median of every call, a difference the median
of the differences within a turn. The headline is also given per round, to
show how far it moves. Each copy is also rendered whole with
``engine.render`` by an engine of its own, and that direct comparison is
printed beside the headline as a check: it is the same cost plus whatever
else differs between two engines (memory, caches), so it moves more (see its
A/A pair). The assignment alone in a loop (``audience.experiments.assign``)
and the SHA-256 it uses are timed too: a render pays several times that,
as the assignment's code runs once per recipient with the CPU's caches cold. The load average is printed at the start and the end: on a shared
machine the absolute numbers move, the paired differences less so.

The whole measurement runs in ``--processes`` fresh processes one after the
other, and the headline is the median of theirs: one process's headline
moves by a few microseconds from one process to the next (where its objects
lie in memory, its hash seed), more than it moves between its own rounds.
The first process's table is printed whole, then each process's headline.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from renderer import Engine  # noqa: E402
from xxhash import xxh3_64_intdigest  # noqa: E402

from renderer.audience.experiments import assign  # noqa: E402
from renderer.recipient.pipeline import prepare, render_prepared  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402
from renderer.devtools.synthetic import generate_profiles  # noqa: E402
from renderer.compile.pipeline import HTML_ENV, TEXT_ENV  # noqa: E402
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


def measure(args: argparse.Namespace) -> None:
    """One process's measurement: the table, its headline, and a HEADLINE line for the parent."""
    texts = variants_of((ROOT / "templates" / "recommendations.yaml").read_text(encoding="utf-8"))
    profiles = list(generate_profiles(args.recipients, seed=11, now=FIXTURE_NOW))
    recommendations = FixtureSet.default().recommendations("default")
    request = {"recommendations": recommendations, "now": FIXTURE_NOW, "transactional": True}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        engines = {name: Engine(content=content(Path(scratch) / name, text), auto_reload=False)
                   for name, text in texts.items()}
        contexts = []
        for name, engine in engines.items():  # compile, warm the caches, check what each renders
            email = engine.render("recommendations", profile=profiles[0], **request)
            assert len(email.variants) == {"none": 0, "again": 0, "unused": 1, "one": 1, "two": 2}[name], (name, email.variants)
        for profile in profiles:  # the "two" engine's contexts: what every copy's templates read is in them
            _, ready = engines["two"].prepare("recommendations", profile=profile, **request)
            ready.context.update(Subject="A subject", Preheader="A preheader")
            contexts.append(ready.context)
        clock = time.perf_counter

        def turns(labels):
            """(round, recipient's index, the labels in this turn's order): every order in turn."""
            orders = list(itertools.permutations(labels))
            for round_ in range(args.rounds):
                for index in range(len(profiles)):
                    yield round_, index, orders[(round_ * len(profiles) + index) % len(orders)]

        # Whole renders, one engine per copy.
        full: dict[str, list[float]] = {name: [] for name in engines}
        for _, index, order in turns(list(engines)):
            for name in order:
                start = clock()
                engines[name].render("recommendations", profile=profiles[index], **request)
                full[name].append(clock() - start)
        # The compiled templates alone: each copy's four sources compiled again here, side by side,
        # in the environments every engine compiles in, and rendered over the same contexts.
        sources = {name: engines[name].compiled("recommendations") for name in ("none", "again", "one", "two")}
        parts_of = {name: (TEXT_ENV.from_string(c.assembled.subject), TEXT_ENV.from_string(c.assembled.preheader),
                           HTML_ENV.from_string(c.html_source), TEXT_ENV.from_string(c.text_source))
                    for name, c in sources.items()}
        parts: dict[str, list[float]] = {name: [] for name in parts_of}
        for _, index, order in turns(list(parts_of)):
            context = contexts[index]
            for name in order:
                start = clock()
                for part in parts_of[name]:
                    render_fast(part, context)
                parts[name].append(clock() - start)
        # One compiled template (the "none" engine's, which no experiment reads) with hero_test in its
        # spec, without it, and without it again: the experiment's code path alone (assignment, trace,
        # context entry, header) and, from the two without, this method's own noise floor (A/A).
        # Everything else is the same objects, caches and memory.
        base = engines["none"]
        hero = engines["one"].compiled("recommendations").spec.experiments
        assert list(hero) == ["hero_test"], hero
        triples = {}
        for language in {base.language_for(p.get("locale")) for p in profiles}:
            template = base.compiled("recommendations", language)
            triples[language] = [(label, replace(template, spec=replace(template.spec, experiments=experiments)))
                                 for label, experiments in (("on", hero), ("off", {}), ("off again", {}))]
        stripped: dict[str, list[float]] = {label: [] for label, _ in next(iter(triples.values()))}
        rules = base.rules()
        for _, index, order in turns(range(3)):
            profile = profiles[index]
            triple = triples[base.language_for(profile.get("locale"))]
            for label, template in (triple[i] for i in order):
                start = clock()  # one expression, so that what the call made is also freed in the timing
                render_prepared(template, prepare(template, profile, recommendations=recommendations, event=None,
                                                  now=FIXTURE_NOW, brand=template.brand, rules=rules,
                                                  transactional=True))
                stripped[label].append(clock() - start)
        ids = [p["id"] for p in profiles] * 25
        assigning = [mean_seconds(lambda i: assign(hero, i), ids) for _ in range(args.rounds)]
        keys = [f"hero_test\x1f\x1f{i}".encode() for i in ids]
        sha = min(mean_seconds(lambda k: hashlib.sha256(k).digest(), keys) for _ in range(args.rounds))
        xxh = min(mean_seconds(xxh3_64_intdigest, keys) for _ in range(args.rounds))
    load = os.getloadavg()
    print(f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end, on {os.cpu_count()} CPUs; "
          f"{args.recipients} recipients x {args.rounds} rounds, recommendations email")
    print("  (median of every call, us; paired: the median of each call's difference from the same")
    print("   recipient's call in the same turn)")

    def paired(values: list[float], base: list[float]) -> float:
        return statistics.median(a - b for a, b in zip(values, base))

    def row(label: str, values: list[float], base: list[float] | None = None, against: str = "none") -> None:
        extra = "" if base is None else f"   paired {paired(values, base) * 1e6:+6.1f} vs {against}"
        print(f"  {label:<34} {statistics.median(values) * 1e6:8.1f}{extra}")

    row("render, no experiment", full["none"])
    row("render, no experiment (A/A)", full["again"], full["none"])
    row("render, one unused experiment", full["unused"], full["none"])
    row("render, one experiment", full["one"], full["none"])
    row("render, two experiments", full["two"], full["none"])
    row("templates alone, no experiment", parts["none"])
    row("templates alone, no experiment (A/A)", parts["again"], parts["none"])
    row("templates alone, one experiment", parts["one"], parts["none"])
    row("templates alone, two experiments", parts["two"], parts["none"])
    row("same template, hero_test off", stripped["off"])
    row("same template, hero_test off (A/A)", stripped["off again"], stripped["off"], "off")
    row("same template, hero_test on", stripped["on"], stripped["off"], "off")
    row("assignment alone, in a loop", assigning)
    print(f"  (one key hashed in a loop: XXH3-64, which assign uses, {xxh * 1e6:.2f} us; "
          f"hashlib's SHA-256 {sha * 1e6:.2f} us)")
    # The headline: hero_test's code path (same template, on vs off) plus its branches (the compiled
    # templates of "one" vs "none"), each paired; and the same per round, to show how far it moves.
    branches = paired(parts["one"], parts["none"])
    path = paired(stripped["on"], stripped["off"])
    one = max(path, 0.0) + max(branches, 0.0)
    size = len(profiles)

    def per_round(values: list[float], base: list[float]) -> list[float]:
        return [paired(values[r * size:(r + 1) * size], base[r * size:(r + 1) * size]) for r in range(args.rounds)]

    rounds = sorted(max(p, 0.0) + max(b, 0.0) for p, b in zip(per_round(stripped["on"], stripped["off"]),
                                                               per_round(parts["one"], parts["none"])))
    floor = max(abs(paired(stripped["off again"], stripped["off"])), abs(paired(parts["again"], parts["none"])))
    print(f"one experiment's per-recipient overhead (hero_test: its code path {path * 1e6:+.1f} us + its branches "
          f"{branches * 1e6:+.1f} us): {one * 1e6:.1f} us (target < 5 us)")
    print(f"  per round {rounds[0] * 1e6:.1f} to {rounds[-1] * 1e6:.1f} us; A/A floor {floor * 1e6:.1f} us; "
          f"whole renders by separate engines {paired(full['one'], full['none']) * 1e6:+.1f} us "
          f"(their A/A {paired(full['again'], full['none']) * 1e6:+.1f} us)")
    print("HEADLINE " + json.dumps({"path": path, "branches": branches, "one": one, "floor": floor,
                                    "load": [load_before[0], load[0]]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--processes", type=int, default=5)
    args = parser.parse_args()
    if args.processes <= 1:
        measure(args)
        return
    command = [sys.executable, __file__, "--recipients", str(args.recipients), "--rounds", str(args.rounds),
               "--processes", "1"]
    headlines = []
    for number in range(args.processes):
        lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
        headline = json.loads(next(line for line in lines if line.startswith("HEADLINE "))[len("HEADLINE "):])
        headlines.append(headline)
        if number == 0:
            print("\n".join(line for line in lines if not line.startswith("HEADLINE ")))
            print()
        print(f"process {number + 1}: {headline['one'] * 1e6:.1f} us (code path {headline['path'] * 1e6:+.1f}, "
              f"branches {headline['branches'] * 1e6:+.1f}, A/A floor {headline['floor'] * 1e6:.1f}; "
              f"load average {headline['load'][0]:.2f} -> {headline['load'][1]:.2f})")
    ones = sorted(h["one"] for h in headlines)
    print(f"one experiment's per-recipient overhead, median of {len(ones)} processes: "
          f"{statistics.median(ones) * 1e6:.1f} us (from {ones[0] * 1e6:.1f} to {ones[-1] * 1e6:.1f}; target < 5 us)")


if __name__ == "__main__":
    main()
