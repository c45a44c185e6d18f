"""Where the fast path's time goes: a pyinstrument profile of ``engine.render``.

Run:  make profile            (installs the ``bench`` extra: pyinstrument)
      .venv/bin/python benchmarks/profile_fast.py [--template recommendations] [--recipients 300]

Renders a synthetic audience (fixed seed) with the bundled recommendations
and, for trigger templates, the bundled event, first once to warm the caches,
then ``--repeat`` times under the sampling profiler; prints the call tree.
Sampling adds a cost per Python call, so shares of time are indicative:
``benchmarks/bench_render.py`` gives the real per-recipient figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer import Engine  # noqa: E402
from renderer.base.errors import RenderAborted  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402
from renderer.devtools.synthetic import generate_profiles  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="recommendations")
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--interval", type=float, default=0.0001, help="sampling interval in seconds")
    args = parser.parse_args()
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("pyinstrument is not installed: run `make profile` (or pip install -e '.[bench]')")

    engine = Engine(auto_reload=False)
    fixtures = FixtureSet.default()
    compiled = engine.compiled(args.template)
    requests = [{"profile": profile, "recommendations": fixtures.recommendations("default"),
                 "event": fixtures.event(compiled.spec.event), "now": FIXTURE_NOW}
                for profile in generate_profiles(args.recipients, seed=args.seed, now=FIXTURE_NOW)]
    kept = []
    for request in requests:
        try:
            engine.render(args.template, **request)
        except RenderAborted:  # no consent, or a required token empty: not an email
            continue
        kept.append(request)
    requests = kept

    profiler = Profiler(interval=args.interval)
    profiler.start()
    for _ in range(args.repeat):
        for request in requests:
            engine.render(args.template, **request)
    profiler.stop()
    print(f"{args.template}: {args.repeat} x {len(requests)} renders")
    print(profiler.output_text(unicode=True, color=sys.stdout.isatty()))


if __name__ == "__main__":
    main()
