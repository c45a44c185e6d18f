"""Personas: named customer clusters, loaded from a plain JSON model file.

This module is the per-recipient side and needs no numpy: it reads and
validates a personas file (written by :mod:`renderer.audience.fit.personas`, which needs
scikit-learn) and finds each recipient's nearest persona from the derived
features (:mod:`renderer.audience.features`) the segment rules already computed.

A recipient's feature vector has one value per feature of the file, in the
file's order, read as :data:`FEATURES` defines it (missing data filled in,
recency capped at :data:`RECENCY_CAP_DAYS`), transformed as the file says
(``log1p`` for counts, money and tenure) and standardized with the file's
scaler. The nearest centroid (Euclidean, ties to the first persona in the
file) is the recipient's persona.

Example:
    >>> personas = load_personas("personas.json")      # doctest: +SKIP
    >>> personas.nearest(assignment.features).segment   # doctest: +SKIP
    'persona:frequent_high_spenders'
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from renderer.audience.features import Features
from renderer.base.errors import PersonaFileError
from renderer.base.model_files import read_model_json, validate_model

FORMAT = "renderer-personas"
VERSION = 1
SEGMENT_PREFIX = "persona:"

RECENCY_CAP_DAYS = 730.0
"""Recency counts at most this many days; so does a customer with neither an order nor a signup date."""


@dataclass(frozen=True)
class FeatureDef:
    """One clustering feature: how to read it from :class:`Features`, and how to show it."""

    name: str
    label: str
    heading: str
    unit: str
    transform: str
    read: Callable[[Features, dict[str, float]], float]


def _recency(features: Features, _rates: dict[str, float]) -> float:
    # Without orders the clock starts at signup: a week-old account is recent
    # whether or not it has bought yet, a three-year-old one without orders is not.
    days = features.rfm.recency_days
    if days is None:
        days = features.days_since_signup
    return RECENCY_CAP_DAYS if days is None else min(float(days), RECENCY_CAP_DAYS)


def _monetary_usd(features: Features, rates: dict[str, float]) -> float:
    # Amounts in different currencies must be comparable, or a yen customer
    # would look like the biggest spender of all.
    return features.rfm.monetary * rates.get(features.rfm.currency or "", 1.0)


def _tenure(features: Features, _rates: dict[str, float]) -> float:
    # Without a signup date, the latest order's age is a lower bound of tenure.
    if features.days_since_signup is not None:
        return float(features.days_since_signup)
    return float(features.rfm.recency_days or 0)


FEATURES: dict[str, FeatureDef] = {f.name: f for f in (
    FeatureDef("recency_days", "days since last order (or signup)", "recency (days)", "days", "identity",
               _recency),
    FeatureDef("frequency", "orders in the window", "orders in window", "orders", "log1p",
               lambda f, _r: float(f.rfm.frequency)),
    FeatureDef("order_count", "orders ever", "orders ever", "orders", "log1p",
               lambda f, _r: float(f.order_count)),
    FeatureDef("monetary_usd", "spend in the window", "spend (USD)", "USD", "log1p", _monetary_usd),
    FeatureDef("engagement_score", "engagement score", "engagement", "0-100", "identity",
               lambda f, _r: float(f.engagement_score)),
    FeatureDef("tenure_days", "days since signup", "tenure (days)", "days", "log1p", _tenure),
)}
"""Every feature a personas file may use, by name."""

DEFAULT_FEATURES: tuple[str, ...] = tuple(FEATURES)


def slug(name: str) -> str:
    """The segment-friendly form of a persona name: ``"New Customers"`` -> ``"new_customers"``."""
    return re.sub(r"[\W_]+", "_", name.strip().lower()).strip("_")


# --- the file ---------------------------------------------------------------

Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    """Unknown keys are errors, so a typo in a hand-edited file is caught at load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureSpec(_Strict):
    """One column of the model: a feature name and its transform."""

    name: str
    transform: Literal["identity", "log1p"]
    unit: str = ""


class Scaler(_Strict):
    """Standardization: ``(transformed - mean) / scale`` per column."""

    mean: list[Finite]
    scale: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]]


class PersonaSpec(_Strict):
    """One persona: an editable name, its size and share, its centroid (standardized) and centre (original units)."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    size: Annotated[int, Field(ge=0)]
    share: Annotated[float, Field(ge=0, le=1)]
    centroid: list[Finite]
    centre: dict[str, Finite] = {}


class FitInfo(_Strict):
    """How the model was fitted: the clock, seed, feature window and rates, and the silhouette."""

    k: Annotated[int, Field(ge=1)]
    seed: int
    now: str
    profiles: Annotated[int, Field(ge=0)]
    invalid_lines: Annotated[int, Field(ge=0)] = 0
    window_days: Annotated[int, Field(gt=0)]
    rates: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]]
    silhouette: Finite | None = None
    silhouette_sample: Annotated[int, Field(ge=0)] = 0
    silhouette_by_k: dict[str, Finite] = {}


class PersonaFile(_Strict):
    """The JSON model file, as validated on load."""

    format: Literal["renderer-personas"]
    version: Literal[1]
    features: Annotated[list[FeatureSpec], Field(min_length=1)]
    scaler: Scaler
    personas: Annotated[list[PersonaSpec], Field(min_length=1)]
    fit: FitInfo

    @model_validator(mode="after")
    def _consistent(self) -> PersonaFile:
        width = len(self.features)
        for spec in self.features:
            known = FEATURES.get(spec.name)
            if known is None:
                raise ValueError(f"unknown feature {spec.name!r} (known: {', '.join(FEATURES)})")
            if spec.transform != known.transform:
                raise ValueError(f"feature {spec.name!r} has transform {spec.transform!r}, "
                                 f"this version uses {known.transform!r}")
        names = [spec.name for spec in self.features]
        if len(set(names)) != width:
            raise ValueError(f"features are listed twice: {names}")
        for label, values in (("scaler.mean", self.scaler.mean), ("scaler.scale", self.scaler.scale)):
            if len(values) != width:
                raise ValueError(f"{label} has {len(values)} values for {width} features")
        slugs: dict[str, str] = {}
        for index, persona in enumerate(self.personas):
            if len(persona.centroid) != width:
                raise ValueError(f"personas.{index} ({persona.name!r}): centroid has "
                                 f"{len(persona.centroid)} values for {width} features")
            key = slug(persona.name)
            if not key:
                raise ValueError(f"personas.{index}: name {persona.name!r} has no letters or digits")
            if key in slugs:
                raise ValueError(f"personas.{index}: name {persona.name!r} gives the same segment "
                                 f"'{SEGMENT_PREFIX}{key}' as {slugs[key]!r}; names must differ")
            slugs[key] = persona.name
        return self


# --- per recipient ------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    """A recipient's nearest persona, as templates see it (``{{ Persona.name }}``)."""

    name: str
    slug: str
    segment: str
    distance: float

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Personas:
    """A loaded personas model: assigns the nearest persona in plain Python.

    A handful of centroids over a handful of features: the sums of squares
    take a few microseconds, less than converting a vector for numpy would.
    """

    spec: PersonaFile
    path: str
    _mean: tuple[float, ...]
    _scale: tuple[float, ...]
    _centroids: tuple[tuple[float, ...], ...]
    _readers: tuple[Callable[[Features, dict[str, float]], float], ...]
    _log: tuple[bool, ...]
    _labels: tuple[Persona, ...]

    @classmethod
    def from_spec(cls, spec: PersonaFile, path: str = "<personas>") -> Personas:
        features = [FEATURES[f.name] for f in spec.features]
        labels = tuple(Persona(p.name, slug(p.name), SEGMENT_PREFIX + slug(p.name), 0.0) for p in spec.personas)
        return cls(spec, path, tuple(spec.scaler.mean), tuple(spec.scaler.scale),
                   tuple(tuple(p.centroid) for p in spec.personas), tuple(f.read for f in features),
                   tuple(f.transform == "log1p" for f in features), labels)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.spec.personas]

    @property
    def segments(self) -> list[str]:
        return [label.segment for label in self._labels]

    @property
    def window_days(self) -> int:
        return self.spec.fit.window_days

    def raw_vector(self, features: Features) -> list[float]:
        """The recipient's features in original units (capped, untransformed), in file order."""
        rates = self.spec.fit.rates
        return [read(features, rates) for read in self._readers]

    def standardize(self, raw: list[float]) -> list[float]:
        """Transform and standardize one recipient's raw features (``log1p`` where the file says)."""
        # The features are never negative; the clamp keeps a stray one from a math domain error.
        return [((math.log1p(max(value, 0.0)) if log else value) - mean) / scale
                for value, log, mean, scale in zip(raw, self._log, self._mean, self._scale)]

    def nearest_index(self, raw: list[float]) -> tuple[int, float]:
        """The index of the nearest centroid to a raw feature vector, and the squared distance."""
        point = self.standardize(raw)
        best, best_distance = 0, math.inf
        for index, centroid in enumerate(self._centroids):
            distance = sum((c - x) * (c - x) for c, x in zip(centroid, point))
            if distance < best_distance:  # ties go to the first persona in the file
                best, best_distance = index, distance
        return best, best_distance

    def nearest(self, features: Features) -> Persona:
        """The persona whose centroid is closest to this recipient's features."""
        index, distance = self.nearest_index(self.raw_vector(features))
        label = self._labels[index]
        return Persona(label.name, label.slug, label.segment, round(math.sqrt(distance), 4))


def parse_personas(data: Any, path: str = "<personas>") -> Personas:
    """Validate a decoded personas file.

    Raises:
        PersonaFileError: naming every problem (``personas.2.centroid: ...``).
    """
    spec = validate_model(data, PersonaFile, kind="personas", format=FORMAT, version=VERSION,
                          error=PersonaFileError, path=path)
    return Personas.from_spec(spec, path)


def load_personas(path: str | Path) -> Personas:
    """Read and validate a personas file; never unpickles anything.

    Raises:
        PersonaFileError: missing file, bad JSON (with line) or an invalid model.
    """
    data = read_model_json(path, "personas", PersonaFileError)
    return parse_personas(data, str(path))


_NUMBER_LIST = re.compile(r"\[\s*(-?[0-9][-+0-9.eE]*(?:,\s*-?[0-9][-+0-9.eE]*)*)\s*\]")


def dump_personas(spec: PersonaFile) -> str:
    """The file's text: indented, keys in model order, one line per list of numbers.

    Stable for the same model, so the same fit gives the same bytes.
    """
    text = json.dumps(spec.model_dump(mode="json"), indent=2, ensure_ascii=False)
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(n.strip() for n in m.group(1).split(",")) + "]", text) + "\n"
