"""Which variant of each experiment a recipient sees: a stable hash, never a coin toss.

A recipient's place in an experiment is XXH3-64 of (experiment key, salt,
recipient id) over 2**64, a number in [0, 1). The first ``holdout`` of
that range is the holdout (the control's content, flagged ``holdout``); the
rest is cut into the variants' weights. So every render of one recipient (a
re-render, the preview, the web version, another process or machine) shows
the same variant; an experiment's weights or variants move only its own
recipients, since no other experiment's hash reads them; and a new salt
reshuffles one experiment.
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from typing import Any

from xxhash import xxh3_64_intdigest

from renderer.base.errors import Problem
from renderer.base.models import VariantTrace
from renderer.content.experiments import HOLDOUT, Experiment

# XXH3-64 (seed 0) and not SHA-256: a render calls the hash once per recipient and experiment, with the
# CPU's caches cold, and there SHA-256 (a hash object made, filled, its digest cut and read as a
# number: four calls) cost about 2.5 us against XXH3's one call giving the number. Uniformity is
# what matters here, not resistance to attack: a recipient cannot choose their id. XXH3's output is
# fixed by its specification (xxHash 0.8.0 on) and every common language has it.
_SCALE = float(1 << 64)
_new_tuple = tuple.__new__


def position(experiment: Experiment, recipient_id: str) -> float:
    """The recipient's place in ``experiment``, uniform in [0, 1) over recipient ids.

    XXH3-64 (seed 0) of the UTF-8 bytes ``key 0x1f salt 0x1f id``, over 2**64, so
    a service elsewhere can compute the same place with any XXH3 library.
    """
    return xxh3_64_intdigest(experiment.hash_prefix + recipient_id.encode()) / _SCALE


def variant_at(experiment: Experiment, place: float) -> str:
    """The outcome (a variant, or ``holdout``) at ``place`` in [0, 1): the rule of ``Experiment.slot_at``."""
    return experiment.outcomes[bisect_right(experiment.cuts, place)]


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


def assign(experiments: dict[str, Experiment], recipient_id: str, forced: dict[str, str] | None = None
           ) -> tuple[dict[str, str], list[VariantTrace], str]:
    """One recipient's outcomes: (experiment -> variant or ``holdout``, the trace, the outcomes as
    the variant header names them: ``hero_test=B; subject_test=holdout``). ``forced`` (already
    checked) wins over the hash. The compiled template reads the outcomes as they are (a holdout
    is shown what the control is: ``compile/assemble.variant_test``)."""
    # Once per recipient, amid a render: every step here is paid with the CPU's caches cold, so
    # position and variant_at are written out (fewer calls), the outcome and its label are read
    # from the experiment's table, and the trace is made as a plain tuple of its type
    # (VariantTrace(...) would run the named tuple's own __new__, a Python function).
    outcomes: dict[str, str] = {}
    traces: list[VariantTrace] = []
    label = ""
    encoded = recipient_id.encode()
    for key, experiment in experiments.items():
        if forced and key in forced:
            outcome, place = forced[key], None
            named = f"{key}={outcome}"
        else:
            place = xxh3_64_intdigest(experiment.hash_prefix + encoded) / _SCALE
            slot = bisect_right(experiment.cuts, place)
            outcome, named = experiment.outcomes[slot], experiment.labels[slot]
        outcomes[key] = outcome
        traces.append(_new_tuple(VariantTrace, (key, outcome, place)))
        label = f"{label}; {named}" if label else named
    return outcomes, traces, label
