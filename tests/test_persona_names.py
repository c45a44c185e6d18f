from __future__ import annotations

import pytest

from renderer.audience.fit.names import base_name, name_personas


def centre(**values: float) -> dict[str, float]:
    typical = dict(recency_days=120, frequency=1, order_count=2, monetary_usd=150, engagement_score=20,
                   tenure_days=400)
    return typical | values


@pytest.mark.parametrize(("values", "name"), [
    (dict(recency_days=12, frequency=9, order_count=11, monetary_usd=2400, engagement_score=80),
     "Frequent High-Spenders"),
    (dict(recency_days=20, frequency=6, order_count=7, monetary_usd=400), "Frequent Buyers"),
    (dict(tenure_days=6, recency_days=5, frequency=0.3, order_count=0.3), "New Customers"),
    (dict(recency_days=240, frequency=1.6, order_count=5, monetary_usd=190, engagement_score=9),
     "Lapsed Regulars"),
    (dict(recency_days=300, frequency=0.4, order_count=1), "Lapsed Customers"),
    (dict(recency_days=650, frequency=0, order_count=0, monetary_usd=0, engagement_score=0),
     "Inactive Subscribers"),
    (dict(recency_days=200, frequency=0, order_count=0, monetary_usd=0, engagement_score=60),
     "Engaged Non-Buyers"),
    (dict(recency_days=150, engagement_score=10), "Occasional Browsers"),
    (dict(recency_days=150, engagement_score=45), "Occasional Buyers"),
    (dict(recency_days=40, monetary_usd=1500, frequency=2), "Big Spenders"),
    (dict(recency_days=30, order_count=3), "Recent Repeat Buyers"),
    (dict(recency_days=30, order_count=1), "Recent First-Time Buyers"),
])
def test_base_names_read_the_centre_in_plain_words(values, name):
    assert base_name(centre(**values)) == name


def test_names_are_unique_and_say_how_twins_differ():
    features = ["recency_days", "frequency", "order_count", "monetary_usd", "engagement_score", "tenure_days"]
    centres = [centre(tenure_days=5, monetary_usd=0), centre(tenure_days=6, monetary_usd=120),
               centre(recency_days=240, order_count=5)]
    standardized = [[0, 0, 0, -1.3, 0, -2], [0, 0.4, 0.4, 0.5, 0, -2], [1, 0, 1, 0, 0, 1]]
    assert name_personas(centres, standardized, features) == [
        "New Customers, lower spend", "New Customers, higher spend", "Lapsed Regulars"]


def test_three_or_more_twins_are_numbered_along_their_widest_difference():
    features = ["engagement_score"]
    centres = [centre(recency_days=150, engagement_score=e) for e in (25, 5, 15)]
    names = name_personas(centres, [[0.5], [-1.0], [0.0]], features)
    assert names == ["Occasional Browsers 3", "Occasional Browsers 1", "Occasional Browsers 2"]
    assert len(set(names)) == 3
