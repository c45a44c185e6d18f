from __future__ import annotations

import pickle

import pytest

from renderer import Engine
from renderer.base.models import Profile, parse
from renderer.content.fixtures import FIXTURE_NOW
from renderer.sources import RateLimitedSource, RecommendationUnavailable, StaticSource

PRODUCT = {"id": "P1", "name": "Mug", "url": "https://fernhill.example/p/1", "price": 12}
PROFILE = parse(Profile, {"id": "c1", "email": "a@example.com"}, what="profile")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def limited(clock: FakeClock, **options) -> RateLimitedSource:
    return RateLimitedSource(StaticSource([PRODUCT]), clock=clock, sleep=clock.sleep, **options)


def test_calls_are_spaced_to_the_rate():
    clock = FakeClock()
    source = limited(clock, per_second=10, max_wait=0.5)
    for _ in range(11):
        assert [p.id for p in source.fetch(PROFILE, 4)] == ["P1"]
    assert clock.slept == [0.1] * 10 and clock.now == pytest.approx(101.0), "11 calls take 1 s at 10/s"


def test_a_burst_goes_through_then_the_rate_applies():
    clock = FakeClock()
    source = limited(clock, per_second=10, burst=3)
    for _ in range(4):
        source.fetch(PROFILE, 4)
    assert clock.slept == [0.1]


def test_a_call_that_would_wait_past_max_wait_is_refused_at_once():
    clock = FakeClock()
    source = limited(clock, per_second=10, max_wait=0.1)
    source._turn(), source._turn()  # two calls already admitted at t=0: the next is due at t=0.2
    with pytest.raises(RecommendationUnavailable, match="rate limit of 10 requests/s reached"):
        source.fetch(PROFILE, 4)
    assert clock.slept == []


def test_a_refusal_costs_a_warning_and_the_fallback(engine):
    clock = FakeClock()
    source = limited(clock, per_second=1, max_wait=0)
    limited_engine = Engine(**dict(engine.config(), recommendations=source))
    first = limited_engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW)
    second = limited_engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW)
    assert not first.warnings
    assert second.warnings and "rate limit of 1 requests/s reached; fallback used" in second.warnings[0]


def test_a_pickled_copy_has_the_settings_and_its_own_bucket():
    clock = FakeClock()
    source = limited(clock, per_second=5, burst=2, max_wait=0.3)
    source._turn(), source._turn(), source._turn()
    copy = pickle.loads(pickle.dumps(source))
    assert (copy.per_second, copy.burst, copy.max_wait) == (5, 2, 0.3)
    assert copy._turn() == 0.0, "a fresh bucket"
    assert copy.source is not source.source


def test_options_are_validated():
    with pytest.raises(ValueError, match="per_second must be positive"):
        RateLimitedSource(StaticSource([PRODUCT]), per_second=0)
    with pytest.raises(ValueError):
        RateLimitedSource(StaticSource([PRODUCT]), per_second=1, burst=0)
