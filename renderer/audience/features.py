"""Derived features of a profile: RFM, engagement, tenure, churn risk.

Everything is computed from the profile and an injected ``now``; nothing
reads the wall clock. Missing data gives a defined value (``None`` for "no
such date", ``0`` for counts and sums), never an exception.

Definitions (thresholds are configurable, see :class:`FeatureConfig`):

- ``rfm.recency_days``: whole days since the latest order; ``None`` without orders.
- ``rfm.frequency``: orders placed within the window (default 365 days).
- ``rfm.monetary``: spend within the window, in the currency of the latest
  order (orders in other currencies are not converted and not counted).
- ``rfm.r_score`` / ``f_score`` / ``m_score``: 1-5, from the thresholds
  (recency: lower is better; 1 when there is no order). Spend is converted to
  the threshold currency with approximate rates for the score only.
- ``engagement_score``: 0-100. 60 % open rate + 40 % click rate (a 25 % click
  rate counts as full), times a recency weight: 1.0 when the last open or click
  was within 30 days, falling linearly to 0.25 at 180 days and beyond (0.25
  also when the date is unknown). 0 when no email was received.
- ``churn_risk``: 0-100, only for buyers (``None`` otherwise): 70 points for
  recency against the customer's own rhythm (recency / (2 x their average gap
  between orders, at least 30 days), capped at 1) + 30 points for disengagement
  ((100 - engagement_score) x 0.3).

:func:`derive_with_history` also gives, from the same sorted orders, the
:class:`History` that the predictive model's columns read: orders in the 90 days
before ``now`` and the average gap between the orders placed by then.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from operator import attrgetter, gt
from typing import Any, NamedTuple

from renderer.base.models import Profile


@dataclass(frozen=True)
class FeatureConfig:
    """Windows and score thresholds; each list holds the four cut points for scores 2-5."""

    window_days: int = 365
    recency_days: tuple[int, ...] = (365, 180, 90, 30)
    frequency: tuple[int, ...] = (2, 3, 5, 8)
    monetary: tuple[float, ...] = (100, 300, 600, 1000)
    threshold_currency: str = "USD"
    # Approximate value of one unit in the threshold currency, for scoring
    # only; unknown currencies count 1:1.
    rates: dict[str, float] = field(default_factory=lambda: {
        "USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66, "JPY": 0.0067,
        "BRL": 0.18, "EGP": 0.021, "MXN": 0.055, "INR": 0.012, "CHF": 1.13, "SEK": 0.095,
    })

    window: timedelta = field(init=False, repr=False, compare=False)
    recency_ascending: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.window_days <= 0:
            raise ValueError("window_days must be positive")
        # Derived once: features are computed for every recipient.
        object.__setattr__(self, "window", timedelta(days=self.window_days))
        object.__setattr__(self, "recency_ascending", tuple(sorted(self.recency_days)))
        for name in ("recency_days", "frequency", "monetary"):
            cuts = getattr(self, name)
            if len(cuts) != 4 or list(cuts) != sorted(cuts, reverse=(name == "recency_days")):
                order = "descending" if name == "recency_days" else "ascending"
                raise ValueError(f"{name} needs four {order} cut points, got {list(cuts)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        unknown = set(data) - {"window_days", "recency_days", "frequency", "monetary",
                               "threshold_currency", "rates"}
        if unknown:
            raise ValueError(f"unknown threshold keys {sorted(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


# Named tuples: immutable, and built for every recipient at a fraction of a
# frozen dataclass's cost (one attribute store per field).
class Rfm(NamedTuple):
    recency_days: int | None
    frequency: int
    monetary: float
    currency: str | None
    r_score: int
    f_score: int
    m_score: int

    @property
    def code(self) -> str:
        """The classic three-digit RFM cell, e.g. ``"545"``."""
        return f"{self.r_score}{self.f_score}{self.m_score}"


class Features(NamedTuple):
    rfm: Rfm
    order_count: int
    engagement_score: float
    open_rate: float
    click_rate: float
    days_since_signup: int | None
    days_since_last_open: int | None
    days_since_last_click: int | None
    churn_risk: float | None

    def as_dict(self) -> dict[str, Any]:
        data = self._asdict()
        data["rfm"] = dict(self.rfm._asdict(), code=self.rfm.code)
        return data


def _days(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max((now - then).days, 0)


def _recency_weight(days: int | None) -> float:
    if days is None:
        return 0.25
    if days <= 30:
        return 1.0
    if days >= 180:
        return 0.25
    return 1.0 - 0.75 * (days - 30) / 150


_ZERO = Decimal(0)
_NINETY_DAYS = timedelta(days=90)
MIN_GAP_DAYS = 30.0
"""The shortest average gap between orders a rhythm counts with (as the hand-written churn score does)."""


class History(NamedTuple):
    """What the predictive columns read from the orders placed by ``now`` beyond :class:`Features`."""

    orders_90d: int
    average_gap_days: float


def in_zone_of(dates: list[datetime], now: datetime) -> datetime:
    """``now`` with the tzinfo of ``dates[0]`` when that is the same instant, else ``now`` itself.

    Datetimes that share one tzinfo object compare and subtract without asking it
    for their offsets (a few hundred nanoseconds a comparison otherwise); pydantic
    gives all timestamps with one offset the same object.
    """
    zone = dates[0].tzinfo if dates else None
    if zone is not now.tzinfo and zone is not None and zone.utcoffset(None) == now.utcoffset():
        return now.replace(tzinfo=zone)
    return now


def order_history(dates: list[datetime], now: datetime, placed: int) -> History:
    """:class:`History` from the order dates sorted ascending, of which the first ``placed`` are placed by ``now``.

    Orders in the 90 days before ``now`` and the average gap between the placed
    orders, at least :data:`MIN_GAP_DAYS`.
    """
    if not placed:
        return History(0, MIN_GAP_DAYS)
    recent = placed - bisect_left(dates, now - _NINETY_DAYS, 0, placed)
    gap = (dates[placed - 1] - dates[0]).days / (placed - 1) if placed > 1 else 0.0
    return History(recent, max(gap, MIN_GAP_DAYS))


def derive(profile: Profile, now: datetime, config: FeatureConfig = FeatureConfig()) -> Features:
    """Compute the derived features of one profile at ``now``."""
    return _derive(profile, now, config)[0]


def derive_with_history(profile: Profile, now: datetime,
                        config: FeatureConfig = FeatureConfig()) -> tuple[Features, History]:
    """:func:`derive`, and the :class:`History` the predictive columns read, from the same sorted orders."""
    features, dates, at, placed = _derive(profile, now, config)
    return features, order_history(dates, at, placed)


def _derive(profile: Profile, now: datetime,
            config: FeatureConfig) -> tuple[Features, list[datetime], datetime, int]:
    """The features, the sorted order dates, ``now`` in their zone and how many were placed by then."""
    orders = profile.orders
    dates = [order.placed_at for order in orders]
    if len(dates) > 1 and any(map(gt, dates, islice(dates, 1, None))):
        orders = sorted(orders, key=attrgetter("placed_at"))
        dates = [order.placed_at for order in orders]
    latest = orders[-1] if orders else None
    # The orders are sorted: the window is a slice found by bisection (in C, with ``at`` sharing
    # the orders' tzinfo), and only its orders are read in Python.
    at = in_zone_of(dates, now)
    placed = bisect_right(dates, at)
    first = bisect_left(dates, at - config.window, 0, placed)
    currency = latest.currency if latest else None
    frequency, spent = placed - first, _ZERO
    for order in orders[first:placed]:
        if order.currency == currency:
            spent += order.total
    monetary = float(spent)
    recency = _days(at, latest.placed_at) if latest else None
    rfm = Rfm(
        recency,
        frequency,
        round(monetary, 2),
        currency,
        # Cut points are sorted, so a score is 1 + the number of cuts passed.
        1 if recency is None else 1 + len(config.recency_days) - bisect_left(config.recency_ascending, recency),
        1 + bisect_right(config.frequency, frequency),
        1 + bisect_right(config.monetary, monetary * config.rates.get(currency or "", 1.0)),
    )
    engagement = profile.engagement
    received = engagement.emails_received
    open_rate = min(engagement.opens / received, 1.0) if received else 0.0
    click_rate = min(engagement.clicks / received, 1.0) if received else 0.0
    last_open = _days(now, engagement.last_open_at)
    last_click = _days(now, engagement.last_click_at)
    last_touch = last_open if last_click is None else last_click if last_open is None else min(last_open, last_click)
    score = 0.0
    if received:
        score = 100 * (0.6 * open_rate + 0.4 * min(click_rate * 4, 1.0)) * _recency_weight(last_touch)
    churn = None
    if latest is not None:
        # The average gap between consecutive orders is the span over the gap count.
        span = (latest.placed_at - orders[0].placed_at).days
        rhythm = max(span / (len(orders) - 1) if len(orders) > 1 else 0, 30)
        churn = round(70 * min(recency / (2 * rhythm), 1.0) + 0.3 * (100 - score), 1)
    features = Features(
        rfm,
        profile.order_count,
        round(score, 1),
        round(open_rate, 3),
        round(click_rate, 3),
        _days(now, profile.signup_date),
        last_open,
        last_click,
        churn,
    )
    return features, dates, at, placed
