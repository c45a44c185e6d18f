from __future__ import annotations

import pytest

from renderer.audience.features import FeatureConfig, derive
from renderer.content.fixtures import FIXTURE_NOW

from profiles import make_profile


def test_no_orders_gives_defined_values():
    features = derive(make_profile(signup_days=None), FIXTURE_NOW)
    assert features.rfm.recency_days is None
    assert (features.rfm.frequency, features.rfm.monetary) == (0, 0.0)
    assert (features.rfm.r_score, features.rfm.f_score, features.rfm.m_score) == (1, 1, 1)
    assert features.churn_risk is None and features.days_since_signup is None
    assert features.engagement_score == 0.0


def test_recency_frequency_monetary():
    features = derive(make_profile(orders=[10.2, 40, 364, 366], total=100), FIXTURE_NOW)
    assert features.rfm.recency_days == 10
    assert features.rfm.frequency == 3, "the order 366 days ago is outside the window"
    assert features.rfm.monetary == 300.0
    assert features.order_count == 4
    assert features.rfm.code == "533"


@pytest.mark.parametrize("days,score", [(30, 5), (31, 4), (90, 4), (91, 3), (180, 3), (365, 2), (366, 1)])
def test_recency_score_thresholds(days, score):
    assert derive(make_profile(orders=[days]), FIXTURE_NOW).rfm.r_score == score


@pytest.mark.parametrize("spend,score", [(99.99, 1), (100, 2), (599, 3), (600, 4), (999.99, 4), (1000, 5)])
def test_monetary_score_thresholds(spend, score):
    assert derive(make_profile(orders=[5], total=spend), FIXTURE_NOW).rfm.m_score == score


def test_monetary_counts_only_the_latest_orders_currency_and_scores_converted():
    profile = make_profile(orders=[5], total=100000, currency="JPY")
    features = derive(profile, FIXTURE_NOW)
    assert features.rfm.currency == "JPY" and features.rfm.monetary == 100000
    assert features.rfm.m_score == 4, "100,000 JPY is about $670 at the configured rate"
    mixed = profile.model_copy(update={"orders": profile.orders + make_profile(orders=[50], total=999).orders})
    assert derive(mixed, FIXTURE_NOW).rfm.monetary == 100000, "the older USD order is not added to yen"


def test_engagement_score_weights_recency():
    fresh = derive(make_profile(received=10, opens=5, clicks=1, last_open=3), FIXTURE_NOW)
    # 100 * (0.6 * 0.5 + 0.4 * min(0.1 * 4, 1)) = 46
    assert fresh.engagement_score == 46.0
    stale = derive(make_profile(received=10, opens=5, clicks=1, last_open=105), FIXTURE_NOW)
    # weight 1 - 0.75 * 75/150 = 0.625
    assert stale.engagement_score == 28.8
    ancient = derive(make_profile(received=10, opens=5, clicks=1, last_open=400), FIXTURE_NOW)
    assert ancient.engagement_score == 11.5


def test_churn_risk_against_the_customers_rhythm():
    regular = derive(make_profile(orders=[20, 50, 80]), FIXTURE_NOW)
    overdue = derive(make_profile(orders=[200, 230, 260]), FIXTURE_NOW)
    # rhythm 30 days: 70 * min(20/60, 1) + 0.3 * 100 = 53.3; overdue caps at 70 + 30
    assert regular.churn_risk == 53.3
    assert overdue.churn_risk == 100.0


def test_config_validation():
    with pytest.raises(ValueError, match="recency_days needs four descending"):
        FeatureConfig(recency_days=(30, 90, 180, 365))
    with pytest.raises(ValueError, match="unknown threshold keys"):
        FeatureConfig.from_dict({"windw_days": 3})
    with pytest.raises(ValueError, match="window_days"):
        FeatureConfig(window_days=0)


def test_the_window_is_read_from_the_orders_in_any_order_time_zone_and_date():
    # The definitions read plainly, order by order, against derive's bisection of the sorted orders.
    import random
    from datetime import datetime, timedelta, timezone

    from renderer.base.models import Profile
    from renderer.devtools.planted import generate_planted_profiles

    shuffle = random.Random(6)
    zones = [timezone.utc, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5, minutes=-30))]
    for data in generate_planted_profiles(120, seed=12, now=FIXTURE_NOW):
        shuffle.shuffle(data["orders"])
        for order in data["orders"][::2]:
            moment = datetime.fromisoformat(order["placed_at"].replace("Z", "+00:00"))
            order["placed_at"] = moment.astimezone(shuffle.choice(zones)).isoformat()
        profile = Profile.model_validate(data)
        latest = sorted(profile.orders, key=lambda o: o.placed_at)[-1] if profile.orders else None
        for days in (0, 100, 500):  # at past dates, later orders are still to come
            now = FIXTURE_NOW - timedelta(days=days)
            features = derive(profile, now)
            window = [o for o in profile.orders if now - timedelta(days=365) <= o.placed_at <= now]
            assert features.rfm.frequency == len(window)
            spent = sum(o.total for o in window if o.currency == latest.currency) if latest else 0
            assert features.rfm.monetary == round(float(spent), 2)
            assert features.rfm.recency_days == (max((now - latest.placed_at).days, 0) if latest else None)
            assert features.order_count == len(profile.orders)
