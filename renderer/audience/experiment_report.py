"""How an audience splits over a template's experiments, before anyone is sent anything.

``renderer experiments report AUDIENCE.jsonl --template T`` reads the
profiles, places each one as a render would (``experiments.choose``) and
tests each experiment's counts against its weights with Pearson's
chi-square. The p-value is the chi-square distribution's upper tail, the
regularized upper incomplete gamma function Q(k/2, x/2), computed here from
its series and continued fraction (as in Numerical Recipes, section 6.2) so
that the report needs no SciPy: the ml extra brings numpy, scikit-learn and
matplotlib, too much for one number (``tests/test_experiments.py`` checks
it against SciPy where SciPy is installed).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from collections.abc import Iterable

from renderer.audience.experiments import choose
from renderer.content.experiments import Experiment

_EPSILON = 1e-15
_STEPS = 500


def _lower_series(a: float, x: float) -> float:
    """P(a, x) by its power series; converges quickly for x < a + 1."""
    term = total = 1.0 / a
    n = a
    for _ in range(_STEPS):
        n += 1
        term *= x / n
        total += term
        if abs(term) < abs(total) * _EPSILON:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_fraction(a: float, x: float) -> float:
    """Q(a, x) by Lentz's continued fraction; converges quickly for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _STEPS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi_square_p(statistic: float, dof: int) -> float:
    """The probability that a chi-square variable with ``dof`` degrees of freedom is at least ``statistic``."""
    if dof < 1:
        raise ValueError("dof must be at least 1")
    if statistic <= 0:
        return 1.0
    a, x = dof / 2.0, statistic / 2.0
    return 1.0 - _lower_series(a, x) if x < a + 1 else _upper_fraction(a, x)


@dataclass
class Split:
    """One experiment's counts over an audience and how well they fit its weights."""

    experiment: Experiment
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[tuple[str, int, float, float]]:
        """(outcome, count, observed share, expected share) for each variant, then the holdout."""
        total = self.total
        return [(name, self.counts[name], self.counts[name] / total if total else 0.0, expected)
                for name, expected in self.experiment.shares().items()]

    def chi_square(self) -> tuple[float, int, float]:
        """Pearson's statistic against the weights, its degrees of freedom and its p-value."""
        total = self.total
        if not total:
            return 0.0, 0, 1.0
        expected = self.experiment.shares()
        statistic = sum((self.counts[name] - total * share) ** 2 / (total * share) for name, share in expected.items())
        dof = len(expected) - 1
        return statistic, dof, chi_square_p(statistic, dof)


def split_audience(experiments: dict[str, Experiment], recipient_ids: Iterable[str]) -> list[Split]:
    """Place every recipient in every experiment, as their render would."""
    splits = [Split(experiment) for experiment in experiments.values()]
    for recipient in recipient_ids:
        for split in splits:
            split.counts[choose(split.experiment, recipient)] += 1
    return splits
