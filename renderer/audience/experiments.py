"""Which variant of each experiment a recipient sees: a stable hash, never a coin toss.

A recipient's place in an experiment is the SHA-256 of (experiment key,
salt, recipient id), read as a number in [0, 1). The first ``holdout`` of
that range is the holdout (the control's content, flagged ``holdout``); the
rest is cut into the variants' weights. So every render of one recipient (a
re-render, the preview, the web version, another process or machine) shows
the same variant; an experiment's weights or variants move only its own
recipients, since no other experiment's hash reads them; and a new salt
reshuffles one experiment. About 1.6 µs per experiment per recipient
(``benchmarks/bench_experiments.py``).
"""

from __future__ import annotations

import difflib
import hashlib
from bisect import bisect_right
from typing import Any

from renderer.base.errors import Problem
from renderer.base.models import VariantTrace
from renderer.content.experiments import HOLDOUT, Experiment

_SCALE = float(1 << 64)


def position(experiment: Experiment, recipient_id: str) -> float:
    """The recipient's place in ``experiment``, uniform in [0, 1) over recipient ids.

    The first 8 bytes of SHA-256(key, salt, id), big-endian, over 2**64. The
    hash itself takes about 0.3 µs, as blake2b does; SHA-256 is the one every
    other language has, so a service elsewhere can compute the same place.
    """
    digest = hashlib.sha256(experiment.hash_prefix + recipient_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def variant_at(experiment: Experiment, place: float) -> str:
    """The outcome (a variant, or ``holdout``) at ``place`` in [0, 1)."""
    holdout = experiment.holdout
    if place < holdout:
        return HOLDOUT
    if holdout:
        place = (place - holdout) / (1.0 - holdout)
    return experiment.variants[min(bisect_right(experiment.bounds, place), len(experiment.variants) - 1)]


def choose(experiment: Experiment, recipient_id: str) -> str:
    """The recipient's outcome in one experiment: a variant name or ``holdout``."""
    return variant_at(experiment, position(experiment, recipient_id))


def forced_problems(experiments: dict[str, Experiment], forced: Any) -> list[Problem]:
    """What is wrong with a ``force_variants`` mapping for these experiments (empty: nothing)."""
    if not isinstance(forced, dict):
        return [Problem("force_variants", "Input should be a mapping of experiment to variant, e.g. "
                        "{'hero_test': 'B'}", "dict_type", repr(forced))]
    problems = []
    for key, name in forced.items():
        if key not in experiments:
            close = difflib.get_close_matches(str(key), list(experiments), n=1)
            known = ", ".join(experiments) or "none"
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(Problem(f"force_variants.{key}", f"the template has no experiment {key!r}{hint} "
                                    f"(its experiments: {known})", "unknown_experiment", name))
            continue
        allowed = (*experiments[key].variants, HOLDOUT)
        if name not in allowed:
            close = [n for n in allowed if n.lower() == str(name).lower()] \
                or difflib.get_close_matches(str(name), list(allowed), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(Problem(f"force_variants.{key}", f"experiment {key} has no variant {name!r}{hint} "
                                    f"(its variants: {', '.join(allowed)})", "unknown_variant", name))
    return problems


def assign(experiments: dict[str, Experiment], recipient_id: str,
           forced: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, str], list[VariantTrace]]:
    """One recipient's outcomes: (experiment -> variant or ``holdout``, experiment -> the variant
    whose content is shown, the trace). ``forced`` (already checked) wins over the hash."""
    outcomes: dict[str, str] = {}
    content: dict[str, str] = {}
    traces: list[VariantTrace] = []
    for key, experiment in experiments.items():
        if forced and key in forced:
            outcome, place = forced[key], None
        else:
            place = position(experiment, recipient_id)
            outcome = variant_at(experiment, place)
        outcomes[key] = outcome
        content[key] = experiment.control if outcome == HOLDOUT else outcome
        traces.append(VariantTrace(key, outcome, place))
    return outcomes, content, traces
