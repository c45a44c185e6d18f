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
