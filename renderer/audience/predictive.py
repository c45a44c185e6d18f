"""Predicted churn and value, loaded from a plain JSON model file and scored in pure Python.

This module is the per-recipient side and needs no numpy: it reads and
validates a predictive model file (written by
:mod:`renderer.audience.fit.predictive`, which needs scikit-learn) and scores a
recipient from the derived features the segment rules already computed and
the order :class:`History` that the same pass over the orders gave
(:func:`~renderer.audience.features.derive_with_history`).

Both models are linear over the same standardized columns (:data:`FEATURES`),
so scoring is two dot products, one ``exp`` each and two bisections for the
deciles; the scaler is folded into the weights at load:

- churn: logistic regression, ``P(no order in the next horizon days)``;
- value: Poisson regression (log link), the expected spend in the next
  ``value.horizon_days`` in US dollars, shown in the currency of the
  recipient's latest order (converted with the file's rates).

A customer without orders gets no prediction (``None``): both models were
fitted on customers who had bought before, and would only guess for others.

Example:
    >>> model = load_predictive("predictive.json")          # doctest: +SKIP
    >>> model.predict(profile, features, now).churn_decile  # doctest: +SKIP
    9
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from operator import mul
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from renderer.audience.features import Features, History, in_zone_of, order_history
from renderer.base.errors import ModelFileError
from renderer.base.model_files import read_model_json, validate_model
from renderer.base.models import Profile

FORMAT = "renderer-predictive"
VERSION = 1
RECENCY_CAP_DAYS = 730.0
GAP_RATIO_CAP = 10.0

_log1p = math.log1p
_math_exp = math.exp


def history(profile: Profile, now: datetime) -> History:
    """Orders in the 90 days before ``now`` and the average gap between orders (at least 30 days).

    A render gets the same from :func:`~renderer.audience.features.derive_with_history`, which
    has the orders sorted already; this one sorts the dates itself (in C).
    """
    dates = sorted([order.placed_at for order in profile.orders])
    now = in_zone_of(dates, now)
    return order_history(dates, now, bisect_right(dates, now))


@dataclass(frozen=True)
class Column:
    """One model column: how to read it, and its transform."""

    name: str
    label: str
    transform: str
    read: Callable[[Features, History, dict[str, float]], float]


def _recency(features: Features, _h: History, _r: dict[str, float]) -> float:
    days = features.rfm.recency_days
    return RECENCY_CAP_DAYS if days is None else min(float(days), RECENCY_CAP_DAYS)


def _gap_ratio(features: Features, hist: History, _r: dict[str, float]) -> float:
    days = features.rfm.recency_days
    return GAP_RATIO_CAP if days is None else min(days / hist.average_gap_days, GAP_RATIO_CAP)


def _spend_usd(features: Features, _h: History, rates: dict[str, float]) -> float:
    return features.rfm.monetary * rates.get(features.rfm.currency or "", 1.0)


def _tenure(features: Features, _h: History, _r: dict[str, float]) -> float:
    if features.days_since_signup is not None:
        return float(features.days_since_signup)
    return float(features.rfm.recency_days or 0)


FEATURES: dict[str, Column] = {c.name: c for c in (
    Column("recency_days", "days since the last order", "log1p", _recency),
    Column("gap_ratio", "days since the last order / the customer's average gap", "identity", _gap_ratio),
    Column("orders_90d", "orders in the last 90 days", "log1p", lambda f, h, _r: float(h.orders_90d)),
    Column("orders_365d", "orders in the feature window", "log1p", lambda f, h, _r: float(f.rfm.frequency)),
    Column("order_count", "orders ever", "log1p", lambda f, h, _r: float(f.order_count)),
    Column("spend_usd", "spend in the feature window (USD)", "log1p", _spend_usd),
    Column("open_rate", "email open rate", "identity", lambda f, h, _r: f.open_rate),
    Column("click_rate", "email click rate", "identity", lambda f, h, _r: f.click_rate),
    Column("tenure_days", "days since signup", "log1p", _tenure),
)}
"""Every column a predictive file may use, by name. Last-open and last-click dates are left
out on purpose: at a past date they would reveal what happened after it (see docs/predictive.md)."""

DEFAULT_FEATURES: tuple[str, ...] = tuple(FEATURES)


def _standard_columns(f: Features, h: History, rates: dict[str, float]) -> list[float]:
    """:data:`DEFAULT_FEATURES` in one call: what the readers give, without nine calls per recipient."""
    rfm = f.rfm
    days = rfm.recency_days
    if days is None:
        recency, ratio = RECENCY_CAP_DAYS, GAP_RATIO_CAP
    else:
        recency = days if days < RECENCY_CAP_DAYS else RECENCY_CAP_DAYS
        ratio = days / h.average_gap_days
        ratio = ratio if ratio < GAP_RATIO_CAP else GAP_RATIO_CAP
    tenure = f.days_since_signup if f.days_since_signup is not None else (days or 0)
    return [float(recency), ratio, float(h.orders_90d), float(rfm.frequency), float(f.order_count),
            rfm.monetary * rates.get(rfm.currency or "", 1.0), f.open_rate, f.click_rate, float(tenure)]


def _standard_transformed(f: Features, h: History, rates: dict[str, float]) -> tuple[float, ...]:
    """:func:`_standard_columns` with the transforms applied, as :meth:`Predictive.scores` applies them.

    The same operations on the same values, so the same bits; without the list of raw
    values and the loop over the transforms.
    """
    rfm = f.rfm
    days = rfm.recency_days
    if days is None:
        recency, ratio = RECENCY_CAP_DAYS, GAP_RATIO_CAP
    else:
        recency = float(days) if days < RECENCY_CAP_DAYS else RECENCY_CAP_DAYS
        ratio = days / h.average_gap_days
        ratio = ratio if ratio < GAP_RATIO_CAP else GAP_RATIO_CAP
    tenure = float(f.days_since_signup if f.days_since_signup is not None else (days or 0))
    spend = rfm.monetary * rates.get(rfm.currency or "", 1.0)
    # Counts are never negative: log1p of the count is what log1p(max(float(count), 0.0)) gives.
    return (_log1p(recency if recency > 0.0 else 0.0), ratio, _log1p(h.orders_90d), _log1p(rfm.frequency),
            _log1p(f.order_count), _log1p(spend if spend > 0.0 else 0.0), f.open_rate, f.click_rate,
            _log1p(tenure if tenure > 0.0 else 0.0))


# --- the file ---------------------------------------------------------------

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    name: str
    transform: Literal["identity", "log1p"]


class Scaler(_Strict):
    mean: list[Finite]
    scale: list[Positive]


class LinearModel(_Strict):
    """``link(intercept + coef . standardized columns)``; ``deciles`` are the nine cut points of the fitted audience."""

    kind: Literal["logistic", "poisson"]
    horizon_days: Annotated[int, Field(gt=0)]
    coef: list[Finite]
    intercept: Finite
    deciles: Annotated[list[Finite], Field(min_length=9, max_length=9)]

    @model_validator(mode="after")
    def _sorted(self) -> LinearModel:
        if self.deciles != sorted(self.deciles):
            raise ValueError("deciles must be ascending")
        return self


class FitInfo(_Strict):
    seed: int
    now: str
    profiles: Annotated[int, Field(ge=0)]
    invalid_lines: Annotated[int, Field(ge=0)] = 0
    churn_examples: Annotated[int, Field(ge=0)]
    value_examples: Annotated[int, Field(ge=0)]
    window_days: Annotated[int, Field(gt=0)]
    rates: dict[str, Positive]


class PredictiveFile(_Strict):
    """The JSON model file, as validated on load."""

    format: Literal["renderer-predictive"]
    version: Literal[1]
    features: Annotated[list[ColumnSpec], Field(min_length=1)]
    scaler: Scaler
    churn: LinearModel
    value: LinearModel
    fit: FitInfo
    validation: dict[str, Any] = {}

    @model_validator(mode="after")
    def _consistent(self) -> PredictiveFile:
        width = len(self.features)
        names = [spec.name for spec in self.features]
        for spec in self.features:
            known = FEATURES.get(spec.name)
            if known is None:
                raise ValueError(f"unknown feature {spec.name!r} (known: {', '.join(FEATURES)})")
            if spec.transform != known.transform:
                raise ValueError(f"feature {spec.name!r} has transform {spec.transform!r}, "
                                 f"this version uses {known.transform!r}")
        if len(set(names)) != width:
            raise ValueError(f"features are listed twice: {names}")
        for label, values in (("scaler.mean", self.scaler.mean), ("scaler.scale", self.scaler.scale),
                              ("churn.coef", self.churn.coef), ("value.coef", self.value.coef)):
            if len(values) != width:
                raise ValueError(f"{label} has {len(values)} values for {width} features")
        if self.churn.kind != "logistic" or self.value.kind != "poisson":
            raise ValueError("churn must be a logistic model and value a poisson model")
        return self


# --- per recipient ------------------------------------------------------------


class Prediction(NamedTuple):
    """One recipient's predictions; deciles run 1 (lowest) to 10 (highest)."""

    churn_probability: float
    churn_decile: int
    expected_value: float
    value_decile: int
    currency: str


def _exp(x: float) -> float:
    return math.exp(min(x, 700.0))  # a hand-edited weight cannot overflow a render


@dataclass(frozen=True)
class Predictive:
    """A loaded predictive model: scores a recipient in plain Python (a few microseconds)."""

    spec: PredictiveFile
    path: str
    _readers: tuple[Callable[[Features, History, dict[str, float]], float], ...]
    _log: tuple[bool, ...]
    _churn: tuple[float, tuple[float, ...]]
    _value: tuple[float, tuple[float, ...]]
    _churn_cuts: tuple[float, ...]
    _value_cuts: tuple[float, ...]
    _rates: dict[str, float]
    _standard: bool = False

    @classmethod
    def from_spec(cls, spec: PredictiveFile, path: str = "<predictive>") -> Predictive:
        mean, scale = spec.scaler.mean, spec.scaler.scale

        def folded(model: LinearModel) -> tuple[float, tuple[float, ...]]:
            # (t - mean) / scale . w + b  ==  t . (w / scale) + (b - sum(w * mean / scale))
            weights = tuple(w / s for w, s in zip(model.coef, scale))
            return model.intercept - sum(w * m for w, m in zip(weights, mean)), weights

        columns = [FEATURES[f.name] for f in spec.features]
        return cls(spec, path, tuple(c.read for c in columns), tuple(c.transform == "log1p" for c in columns),
                   folded(spec.churn), folded(spec.value), tuple(spec.churn.deciles), tuple(spec.value.deciles),
                   dict(spec.fit.rates), tuple(f.name for f in spec.features) == DEFAULT_FEATURES)

    @property
    def window_days(self) -> int:
        return self.spec.fit.window_days

    def raw_vector(self, features: Features, hist: History) -> list[float]:
        """The columns in original units, in file order."""
        if self._standard:
            return _standard_columns(features, hist, self._rates)
        rates = self._rates
        return [read(features, hist, rates) for read in self._readers]

    def scores(self, raw: list[float]) -> tuple[float, float]:
        """(churn probability, expected value in USD) for one raw column vector."""
        transformed = [_log1p(v if v > 0.0 else 0.0) if log else v for v, log in zip(raw, self._log)]
        bias, weights = self._churn
        churn = bias + sum(map(mul, weights, transformed))
        bias, weights = self._value
        value = bias + sum(map(mul, weights, transformed))
        return 1.0 / (1.0 + _exp(-churn)), _exp(value)

    def score(self, features: Features, hist: History) -> tuple[float, float]:
        """``scores(raw_vector(features, hist))`` in one step, bit for bit the same numbers."""
        if not self._standard:
            return self.scores(self.raw_vector(features, hist))
        transformed = _standard_transformed(features, hist, self._rates)
        bias, weights = self._churn
        churn = -(bias + sum(map(mul, weights, transformed)))
        bias, weights = self._value
        value = bias + sum(map(mul, weights, transformed))
        # What _exp does, without two calls: min(x, 700.0) is x unless 700.0 < x (a NaN stays).
        churn = 700.0 if 700.0 < churn else churn
        value = 700.0 if 700.0 < value else value
        return 1.0 / (1.0 + _math_exp(churn)), _math_exp(value)

    def predict(self, profile: Profile, features: Features, now: datetime,
                hist: History | None = None) -> Prediction | None:
        """The recipient's predictions at ``now``; ``None`` for a customer who has not ordered.

        ``hist`` is the :class:`History` that :func:`~renderer.audience.features.derive_with_history`
        gave with ``features`` (the rules pass it); without it the orders are read again.
        """
        rfm = features.rfm
        currency = rfm.currency
        if currency is None or rfm.recency_days is None:
            return None
        churn, usd = self.score(features, history(profile, now) if hist is None else hist)
        local = usd / self._rates.get(currency, 1.0)
        return Prediction(round(churn, 4), 1 + bisect_right(self._churn_cuts, churn), round(local, 2),
                          1 + bisect_right(self._value_cuts, usd), currency)


def parse_predictive(data: Any, path: str = "<predictive>") -> Predictive:
    """Validate a decoded predictive model file.

    Raises:
        ModelFileError: naming every problem (``churn.coef: ...``).
    """
    spec = validate_model(data, PredictiveFile, kind="predictive model", format=FORMAT, version=VERSION,
                          error=ModelFileError, path=path)
    return Predictive.from_spec(spec, path)


def load_predictive(path: str | Path) -> Predictive:
    """Read and validate a predictive model file; never unpickles anything.

    Raises:
        ModelFileError: missing file, bad JSON (with line) or an invalid model.
    """
    data = read_model_json(path, "predictive model", ModelFileError)
    return parse_predictive(data, str(path))


def dump_predictive(spec: PredictiveFile) -> str:
    """The file's text: indented, keys in model order; the same model gives the same bytes."""
    return json.dumps(spec.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
