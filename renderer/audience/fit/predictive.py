"""Fit churn propensity and expected value from order histories, by time travel (the ``ml`` extra).

There are no labels to be had from outside: the order histories are their own.
Steps, in order:

1. :func:`read_examples` streams JSON Lines profiles; for each customer who had
   ordered by ``now - horizon`` it derives the columns *as of that date*
   (orders after it removed) and labels whether they ordered in the following
   ``horizon`` days; likewise, as of ``now - value_horizon``, the columns and the
   spend (USD) of the following ``value_horizon`` days, with last year's spend
   as the naive baseline; and it derives today's columns, whose predictions set
   the deciles. Invalid lines are counted, not fatal.
2. :func:`fit_predictive` splits the customers into a training and a held-out
   part (seeded), standardizes the columns, fits a logistic regression for churn
   and a Poisson regression for value, and measures on the held-out part: ROC
   AUC (also of the hand-written ``churn_risk``), Brier score, a calibration
   table and a lift table for churn; MAE against the naive baseline for value.
3. :func:`~renderer.audience.predictive.dump_predictive` writes the plain JSON model.

Engagement counts in a profile are a snapshot of today, not of the past date:
only the open and click rates are used, which change slowly; the last-open and
last-click dates would leak the future and are not columns. The same profiles,
``now``, seed and options give a byte-identical file.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from renderer.base.extras import needs_extra

with needs_extra("ml", "fitting predictive models"):
    import numpy as np

from renderer.audience.features import FeatureConfig, derive
from renderer.audience.predictive import (
    DEFAULT_FEATURES,
    FEATURES,
    FORMAT,
    VERSION,
    ColumnSpec,
    FitInfo,
    LinearModel,
    PredictiveFile,
    Scaler,
    history,
)
from renderer.base.errors import ModelFitError
from renderer.base.jsonl import InvalidLines, LineError, read_profiles
from renderer.base.models import Profile

DEFAULT_HORIZON_DAYS = 90
DEFAULT_VALUE_HORIZON_DAYS = 365
DEFAULT_TEST_SHARE = 0.25
MIN_EXAMPLES = 40


@dataclass
class Examples:
    """One labelled set: raw columns (original units), a target, and a baseline score per row."""

    raw: array = field(default_factory=lambda: array("d"))
    target: array = field(default_factory=lambda: array("d"))
    baseline: array = field(default_factory=lambda: array("d"))

    def matrix(self, width: int) -> np.ndarray:
        return np.frombuffer(self.raw, dtype=np.float64).reshape(-1, width).copy()

    def vector(self, name: str) -> np.ndarray:
        return np.frombuffer(getattr(self, name), dtype=np.float64).copy()


@dataclass
class ExampleTable:
    """The labelled examples of an audience, and today's columns of its customers."""

    features: tuple[str, ...]
    churn: Examples
    value: Examples
    current: Examples
    profiles: int = 0
    invalid_count: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)


def _usd(orders: list[Any], start: datetime, end: datetime, rates: dict[str, float]) -> float:
    """Spend in ``(start, end]``, converted to US dollars with the feature rates."""
    amount = 0.0
    for order in orders:
        if start < order.placed_at <= end:
            amount += float(order.total) * rates.get(order.currency, 1.0)
    return amount


def _as_of(profile: Profile, moment: datetime) -> Profile | None:
    """The profile as it stood at ``moment``: orders after it removed; ``None`` without an order by then."""
    past = [order for order in profile.orders if order.placed_at <= moment]
    if not past:
        return None
    return profile.model_copy(update={"orders": past}) if len(past) < len(profile.orders) else profile


def read_examples(lines: Iterable[str | LineError], now: datetime, *, config: FeatureConfig = FeatureConfig(),
                  horizon_days: int = DEFAULT_HORIZON_DAYS, value_horizon_days: int = DEFAULT_VALUE_HORIZON_DAYS,
                  features: tuple[str, ...] = DEFAULT_FEATURES,
                  on_progress: Callable[[int], None] | None = None) -> ExampleTable:
    """Build the labelled examples by time travel (see the module docstring).

    Memory is a few rows of floats per valid profile; nothing else is kept.
    """
    if horizon_days <= 0 or value_horizon_days <= 0:
        raise ModelFitError("horizons must be positive numbers of days")
    readers = [FEATURES[name].read for name in features]
    rates = dict(config.rates)
    churn_at = now - timedelta(days=horizon_days)
    value_at = now - timedelta(days=value_horizon_days)
    year = timedelta(days=365)
    table = ExampleTable(tuple(features), Examples(), Examples(), Examples())
    invalid = InvalidLines()
    for _, profile in read_profiles(lines, invalid, on_progress=on_progress):
        table.profiles += 1
        if (past := _as_of(profile, churn_at)) is not None:
            derived = derive(past, churn_at, config)
            hist = history(past, churn_at)
            table.churn.raw.extend(read(derived, hist, rates) for read in readers)
            ordered = any(churn_at < order.placed_at <= now for order in profile.orders)
            table.churn.target.append(0.0 if ordered else 1.0)
            table.churn.baseline.append(derived.churn_risk or 0.0)
        if (past := _as_of(profile, value_at)) is not None:
            derived = derive(past, value_at, config)
            hist = history(past, value_at)
            table.value.raw.extend(read(derived, hist, rates) for read in readers)
            table.value.target.append(_usd(profile.orders, value_at, now, rates))
            table.value.baseline.append(_usd(profile.orders, value_at - year, value_at, rates))
        if (today := _as_of(profile, now)) is not None:
            derived = derive(today, now, config)
            table.current.raw.extend(read(derived, history(today, now), rates) for read in readers)
    table.invalid_count, table.invalid = invalid.count, invalid.listed
    return table


def _sklearn() -> tuple[Any, ...]:
    with needs_extra("ml", "fitting predictive models"):
        from sklearn.linear_model import LogisticRegression, PoissonRegressor
        from sklearn.metrics import brier_score_loss, roc_auc_score
        from threadpoolctl import threadpool_limits
    return LogisticRegression, PoissonRegressor, roc_auc_score, brier_score_loss, threadpool_limits


def _sig(value: float, digits: int = 10) -> float:
    # Rounded so that the last bits of float arithmetic never reach the file.
    return float(f"{float(value):.{digits}g}")


def transform(raw: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """The columns as the model sees them (before standardizing): ``log1p`` where the column says."""
    out = raw.copy()
    for i, name in enumerate(features):
        if FEATURES[name].transform == "log1p":
            out[:, i] = np.log1p(np.maximum(out[:, i], 0.0))
    return out


def linear_scores(model: LinearModel, scaler: Scaler, transformed: np.ndarray) -> np.ndarray:
    """The model's predictions for transformed rows, from the rounded numbers the file holds."""
    z = (transformed - np.array(scaler.mean)) / np.array(scaler.scale)
    eta = z @ np.array(model.coef) + model.intercept
    if model.kind == "logistic":
        return 1.0 / (1.0 + np.exp(-eta))
    return np.exp(np.minimum(eta, 700.0))


def _deciles(values: np.ndarray) -> list[float]:
    return [_sig(v) for v in np.quantile(values, np.linspace(0.1, 0.9, 9))] if len(values) else [0.0] * 9


def calibration_table(predicted: np.ndarray, observed: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Held-out rows in ``bins`` equal-width bins of predicted probability: mean predicted vs observed rate."""
    rows = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(predicted, edges[1:-1]), 0, bins - 1)
    for b in range(bins):
        members = which == b
        if members.any():
            rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "count": int(members.sum()),
                         "predicted": round(float(predicted[members].mean()), 4),
                         "observed": round(float(observed[members].mean()), 4)})
    return rows


def lift_table(score: np.ndarray, outcome: np.ndarray) -> list[dict[str, float]]:
    """Rows in ten equal groups by score (10 = highest): mean outcome, lift over the mean, share of the total."""
    order = np.argsort(-score, kind="stable")
    groups = np.array_split(order, 10)
    mean, total = float(outcome.mean()) if len(outcome) else 0.0, float(outcome.sum())
    return [{"decile": 10 - g, "count": int(len(idx)), "mean": round(float(outcome[idx].mean()), 4),
             "lift": round(float(outcome[idx].mean()) / mean, 3) if mean else 0.0,
             "share": round(float(outcome[idx].sum()) / total, 4) if total else 0.0}
            for g, idx in enumerate(groups) if len(idx)]


def _split(rows: int, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(rows)
    cut = int(round(rows * share))
    return np.sort(order[cut:]), np.sort(order[:cut])


def fit_predictive(table: ExampleTable, *, now: datetime, seed: int = 0, config: FeatureConfig = FeatureConfig(),
                   horizon_days: int = DEFAULT_HORIZON_DAYS,
                   value_horizon_days: int = DEFAULT_VALUE_HORIZON_DAYS,
                   test_share: float = DEFAULT_TEST_SHARE) -> PredictiveFile:
    """Fit both models on the training part, measure them on the held-out part, describe both in the file.

    Raises:
        ModelFitError: too few examples (or only one outcome), bad options, or no scikit-learn.
    """
    LogisticRegression, PoissonRegressor, roc_auc_score, brier_score_loss, threadpool_limits = _sklearn()
    if not 0.05 <= test_share <= 0.5:
        raise ModelFitError(f"test_share must be between 0.05 and 0.5, got {test_share}")
    width = len(table.features)
    churn_x = transform(table.churn.matrix(width), table.features)
    churn_y = table.churn.vector("target")
    value_x = transform(table.value.matrix(width), table.features)
    value_y = table.value.vector("target")
    for label, rows in (("churn", len(churn_y)), ("value", len(value_y))):
        if rows < MIN_EXAMPLES:
            raise ModelFitError(f"{rows} {label} examples (customers who had ordered by the past date); "
                                f"at least {MIN_EXAMPLES} are needed: give more profiles or a shorter horizon")
    if len(set(churn_y.tolist())) < 2:
        raise ModelFitError("every churn example has the same outcome; there is nothing to learn")
    rng = np.random.default_rng(seed)
    churn_train, churn_test = _split(len(churn_y), test_share, rng)
    value_train, value_test = _split(len(value_y), test_share, rng)
    mean = churn_x[churn_train].mean(axis=0)
    scale = churn_x[churn_train].std(axis=0)
    scale[scale == 0] = 1.0
    scaler = Scaler(mean=[_sig(v) for v in mean], scale=[_sig(v) for v in scale])

    def standardized(x: np.ndarray) -> np.ndarray:
        return (x - np.array(scaler.mean)) / np.array(scaler.scale)

    # One thread: BLAS sums partial results in scheduling order, and the same seed must give the same file.
    with threadpool_limits(limits=1):
        classifier = LogisticRegression(C=1.0, max_iter=2000)
        classifier.fit(standardized(churn_x[churn_train]), churn_y[churn_train])
        regressor = PoissonRegressor(alpha=1e-4, max_iter=2000)
        regressor.fit(standardized(value_x[value_train]), value_y[value_train])
    current = transform(table.current.matrix(width), table.features)
    churn = LinearModel(kind="logistic", horizon_days=horizon_days, coef=[_sig(c) for c in classifier.coef_[0]],
                        intercept=_sig(classifier.intercept_[0]), deciles=[0.0] * 9)
    value = LinearModel(kind="poisson", horizon_days=value_horizon_days, coef=[_sig(c) for c in regressor.coef_],
                        intercept=_sig(regressor.intercept_), deciles=[0.0] * 9)
    churn = churn.model_copy(update={"deciles": _deciles(linear_scores(churn, scaler, current))})
    value = value.model_copy(update={"deciles": _deciles(linear_scores(value, scaler, current))})

    predicted = linear_scores(churn, scaler, churn_x[churn_test])
    observed = churn_y[churn_test]
    handwritten = table.churn.vector("baseline")[churn_test]
    both = len(set(observed.tolist())) == 2
    expected = linear_scores(value, scaler, value_x[value_test])
    actual, naive = value_y[value_test], table.value.vector("baseline")[value_test]
    validation = {
        "churn": {
            "held_out": int(len(observed)),
            "base_rate": round(float(observed.mean()), 4),
            "roc_auc": round(float(roc_auc_score(observed, predicted)), 4) if both else None,
            "roc_auc_handwritten": round(float(roc_auc_score(observed, handwritten)), 4) if both else None,
            "brier": round(float(brier_score_loss(observed, predicted)), 4),
            "brier_base_rate": round(float(brier_score_loss(
                observed, np.full(len(observed), churn_y[churn_train].mean()))), 4),
            "calibration": calibration_table(predicted, observed),
            "lift": lift_table(predicted, observed),
        },
        "value": {
            "held_out": int(len(actual)),
            "currency": "USD",
            "mean_actual": round(float(actual.mean()), 2),
            "mae": round(float(np.abs(expected - actual).mean()), 2),
            "mae_baseline": round(float(np.abs(naive - actual).mean()), 2),
            "mean_predicted": round(float(expected.mean()), 2),
            "lift": lift_table(expected, actual),
            "lift_baseline": lift_table(naive, actual),
        },
    }
    return PredictiveFile(
        format=FORMAT, version=VERSION,
        features=[ColumnSpec(name=name, transform=FEATURES[name].transform) for name in table.features],
        scaler=scaler, churn=churn, value=value,
        fit=FitInfo(seed=seed, now=now.isoformat(), profiles=table.profiles, invalid_lines=table.invalid_count,
                    churn_examples=len(churn_y), value_examples=len(value_y), window_days=config.window_days,
                    rates=dict(sorted(config.rates.items()))),
        validation=validation,
    )
