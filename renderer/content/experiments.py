"""A template's ``experiments:`` section and its variant-specific values.

An experiment names its variants with weights, the control variant, and an
optional holdout share::

    experiments:
      hero_test:
        variants: {A: 50, B: 50}    # weights: any positive numbers, normalized
        control: A                  # default: the first variant
        holdout: 0.05               # share that gets the control and is flagged
        salt: winter-2026           # optional: change it to reshuffle everyone
        utm: true                   # links of the blocks it changes carry utm_content=hero_test-B

A value that differs per variant (subject, preheader, a block parameter) is
a mapping of variant names: ``subject: {A: ..., B: ...}``, with
``experiment: KEY`` among them when the template declares more than one
experiment. A variant left out gets the control's value. A block entry may
carry ``variant: B`` (or a list) to be shown to those variants only.

Nothing here assigns anyone: that is ``renderer/audience/experiments.py``.
"""

from __future__ import annotations

import difflib
import re
import struct
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer.base.errors import TemplateError

HOLDOUT = "holdout"
"""What an assignment says of a recipient in an experiment's holdout (who gets the control content)."""

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_VARIANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_FIELDS = ("variants", "control", "holdout", "salt", "utm", "description")


@dataclass(frozen=True, slots=True)
class Experiment:
    """One experiment of a template: its variants with normalized weights, control and holdout share."""

    key: str
    variants: tuple[str, ...]
    weights: tuple[float, ...]
    """Each variant's share of the recipients outside the holdout (they sum to 1)."""
    control: str
    holdout: float = 0.0
    salt: str = ""
    utm: bool = False
    description: str = ""
    line: int | None = None
    bounds: tuple[float, ...] = field(init=False, repr=False, compare=False)
    """The running sums of ``weights`` (the last is 1): where each variant's slice of [0, 1) ends."""
    hash_prefix: bytes = field(init=False, repr=False, compare=False)
    """What a recipient's id is appended to before hashing: key and salt, each ended by a 0x1f byte."""
    outcomes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """The outcomes in the order of their slices of [0, 1): ``holdout`` first when there is one, then the variants."""
    cuts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    """Where each slice but the first begins: a place's outcome is ``outcomes[bisect_right(cuts, place)]``."""
    labels: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """Each of ``outcomes`` as the variant header names it: ``hero_test=B``."""

    def __post_init__(self) -> None:
        # Derived here, so that an Experiment built in code (or by dataclasses.replace, with other
        # weights or another salt) places recipients as a loaded one does.
        sums = tuple(sum(self.weights[: i + 1]) for i in range(len(self.weights) - 1))
        object.__setattr__(self, "bounds", sums + (1.0,))
        object.__setattr__(self, "hash_prefix", f"{self.key}\x1f{self.salt}\x1f".encode())
        outcomes = ((HOLDOUT,) if self.holdout else ()) + self.variants
        object.__setattr__(self, "outcomes", outcomes)
        object.__setattr__(self, "labels", tuple(f"{self.key}={o}" for o in outcomes))
        object.__setattr__(self, "cuts", tuple(_first_place(lambda place, slot=slot: self.slot_at(place) >= slot)
                                               for slot in range(1, len(outcomes))))

    def slot_at(self, place: float) -> int:
        """The rule: which of ``outcomes`` the place ``place`` in [0, 1) falls in.

        The first ``holdout`` of [0, 1) is the holdout; the rest, stretched back to
        [0, 1), is cut at ``bounds``. Recipients are placed with ``cuts`` instead,
        found from this rule once (the same outcome for every place, one comparison
        per cut instead of the arithmetic).
        """
        holdout = self.holdout
        if place < holdout:
            return 0
        if holdout:
            place = (place - holdout) / (1.0 - holdout)
        return (1 if holdout else 0) + min(bisect_right(self.bounds, place), len(self.variants) - 1)

    def shares(self) -> dict[str, float]:
        """Each outcome's expected share of all recipients: the variants, then ``holdout`` when it has one."""
        found = {name: weight * (1 - self.holdout) for name, weight in zip(self.variants, self.weights)}
        if self.holdout:
            found[HOLDOUT] = self.holdout
        return found


@dataclass(frozen=True)
class Varied:
    """A value that differs per variant of one experiment (subject, preheader, a block parameter)."""

    experiment: str
    values: tuple[tuple[str, Any], ...]
    """(variant, value) for every variant of the experiment, in its order: a variant left out has the control's."""

    def value(self, variant: str) -> Any:
        return dict(self.values)[variant]

    def map(self, change: Any) -> Varied:
        """The same choice with ``change`` applied to each value (translation, filling)."""
        return Varied(self.experiment, tuple((name, change(value)) for name, value in self.values))


_BELOW_ONE = struct.unpack("<Q", struct.pack("<d", 1.0))[0]
"""The bit pattern of 1.0: the non-negative doubles below 1 are the patterns below it, in the same order."""


def _double(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _first_place(reached: Callable[[float], bool]) -> float:
    """The least double in [0, 1) for which ``reached`` (false, then true as the place grows) is true;
    1.0 (no place) when there is none. A bisection over the doubles' bit patterns: exact, about 62 steps."""
    low, high = 0, _BELOW_ONE
    while low < high:
        middle = (low + high) // 2
        if reached(_double(middle)):
            high = middle
        else:
            low = middle + 1
    return _double(low)


def _hint(name: str, known: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _experiment(key: Any, entry: Any, path: Path, line: int | None) -> Experiment:
    where = (str(path), line)
    if not isinstance(key, str) or not _KEY.match(key):
        raise TemplateError(f"experiment name {key!r} must be lower-case letters, digits and _", *where)
    if not isinstance(entry, dict):
        raise TemplateError(f"experiment {key}: a mapping with variants: (and control:, holdout:, salt:, utm:)",
                            *where)
    for name in entry:
        if name not in _FIELDS:
            raise TemplateError(f"experiment {key} has unknown key {name!r}{_hint(str(name), _FIELDS)} "
                                f"(allowed: {', '.join(_FIELDS)})", *where)
    variants = entry.get("variants")
    if isinstance(variants, list):
        variants = {name: 1 for name in variants}
    if not isinstance(variants, dict) or len(variants) < 2:
        raise TemplateError(f"experiment {key}: variants: needs two or more variants with weights, "
                            "e.g. {A: 50, B: 50}", *where)
    for name, weight in variants.items():
        if not isinstance(name, str) or not _VARIANT.match(name) or name == HOLDOUT:
            raise TemplateError(f"experiment {key}: variant name {name!r} must be letters, digits, _ or - "
                                f"(and not {HOLDOUT!r})", *where)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise TemplateError(f"experiment {key}: the weight of {name} is {weight!r}: a positive number", *where)
    names = tuple(variants)
    control = entry.get("control", names[0])
    if control not in names:
        raise TemplateError(f"experiment {key}: control {control!r} is not one of its variants "
                            f"({', '.join(names)}){_hint(str(control), names)}", *where)
    holdout = entry.get("holdout", 0)
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 <= holdout < 1:
        raise TemplateError(f"experiment {key}: holdout is {holdout!r}: a share from 0 up to (not including) 1, "
                            "e.g. 0.05", *where)
    if not isinstance(entry.get("utm", False), bool):
        raise TemplateError(f"experiment {key}: utm is true or false", *where)
    total = float(sum(variants.values()))
    return Experiment(key, names, tuple(float(w) / total for w in variants.values()), str(control), float(holdout),
                      str(entry.get("salt") or ""), bool(entry.get("utm", False)), str(entry.get("description") or ""),
                      line)


def parse_experiments(data: Any, path: Path, lines: dict[str, int]) -> dict[str, Experiment]:
    """A template's ``experiments:`` section, checked; ``lines`` gives each experiment's line for errors.

    Raises:
        TemplateError: a malformed experiment, naming it, the file and the line.
    """
    if data is None:
        return {}
    if not isinstance(data, dict) or not data:
        raise TemplateError("'experiments' must be a mapping of experiment names, e.g. "
                            "experiments: {hero_test: {variants: {A: 50, B: 50}}}", str(path), lines.get(""))
    return {str(key): _experiment(key, entry, path, lines.get(str(key))) for key, entry in data.items()}


def varied(value: Any, experiments: dict[str, Experiment], path: Path, line: int | None,
           what: str) -> Any:
    """``value`` as a :class:`Varied` when it is a mapping of variant names, else unchanged.

    ``what`` names the value in errors (``subject``, ``parameter 'headline' of block 'hero'``).

    Raises:
        TemplateError: an unknown experiment or variant, or a mapping that could be two experiments.
    """
    if not isinstance(value, dict) or not experiments:
        return value
    given = {str(k): v for k, v in value.items() if k != "experiment"}
    if "experiment" in value:
        key = str(value["experiment"])
        if key not in experiments:
            raise TemplateError(f"{what} names unknown experiment {key!r}{_hint(key, list(experiments))} "
                                f"(this template's: {', '.join(experiments)})", str(path), line)
    else:
        fits = [key for key, exp in experiments.items() if set(given) <= set(exp.variants)]
        if len(fits) != 1:
            if len(fits) > 1:
                raise TemplateError(f"{what}: variants {', '.join(given)} could belong to experiments "
                                    f"{', '.join(fits)}; add experiment: NAME", str(path), line)
            return _unknown_variants(given, experiments, path, line, what)
        key = fits[0]
    exp = experiments[key]
    unknown = [name for name in given if name not in exp.variants]
    if unknown:
        raise TemplateError(f"{what}: experiment {key} has no variant {unknown[0]!r}"
                            f"{_hint(unknown[0], exp.variants)} (its variants: {', '.join(exp.variants)})",
                            str(path), line)
    if exp.control not in given:
        raise TemplateError(f"{what}: the control variant {exp.control} of experiment {key} needs a value",
                            str(path), line)
    for name, one in given.items():
        if isinstance(one, (dict, list)):
            raise TemplateError(f"{what}: the value of variant {name} must be text or a number", str(path), line)
    return Varied(key, tuple((name, given.get(name, given[exp.control])) for name in exp.variants))


def _unknown_variants(given: dict[str, Any], experiments: dict[str, Experiment], path: Path,
                      line: int | None, what: str) -> Any:
    names = sorted({name for exp in experiments.values() for name in exp.variants})
    unknown = [name for name in given if name not in names]
    if unknown:
        raise TemplateError(f"{what}: no experiment has a variant {unknown[0]!r}{_hint(unknown[0], names)}",
                            str(path), line)
    raise TemplateError(f"{what}: no one experiment has all of the variants {', '.join(given)}; "
                        "add experiment: NAME", str(path), line)


def block_variants(entry: dict[str, Any], experiments: dict[str, Experiment], path: Path,
                   line: int | None, block: str) -> tuple[str, tuple[str, ...]] | None:
    """A block entry's ``variant:`` (and ``experiment:``): the experiment and the variants it is shown to.

    Raises:
        TemplateError: the template has no experiments, or a name is unknown.
    """
    if "variant" not in entry:
        if "experiment" in entry:
            raise TemplateError(f"block {block!r}: experiment: goes with variant:", str(path), line)
        return None
    wanted = entry["variant"]
    names = tuple(str(n) for n in wanted) if isinstance(wanted, list) else (str(wanted),)
    if not experiments:
        raise TemplateError(f"block {block!r} has variant: but the template declares no experiments:",
                            str(path), line)
    if "experiment" in entry:
        key = str(entry["experiment"])
        if key not in experiments:
            raise TemplateError(f"block {block!r}: unknown experiment {key!r}{_hint(key, list(experiments))}",
                                str(path), line)
    else:
        fits = [key for key, exp in experiments.items() if set(names) <= set(exp.variants)]
        if len(fits) > 1:
            raise TemplateError(f"block {block!r}: variant {', '.join(names)} could belong to experiments "
                                f"{', '.join(fits)}; add experiment: NAME", str(path), line)
        if not fits:
            _unknown_variants(dict.fromkeys(names), experiments, path, line, f"block {block!r}")
        key = fits[0]
    exp = experiments[key]
    for name in names:
        if name not in exp.variants:
            raise TemplateError(f"block {block!r}: experiment {key} has no variant {name!r}"
                                f"{_hint(name, exp.variants)} (its variants: {', '.join(exp.variants)})",
                                str(path), line)
    return key, names
