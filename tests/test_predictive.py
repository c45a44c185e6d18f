"""The predictive model file: validated on load, scored per recipient, seen by rules and templates."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import pytest

from renderer import Engine
from renderer.audience.features import derive
from renderer.audience.predictive import FEATURES, Prediction, load_predictive, parse_predictive
from renderer.audience.segments import RuleSet
from renderer.base.errors import ModelFileError
from renderer.base.models import Profile
from renderer.content.fixtures import FIXTURE_NOW
from renderer.recipient.pipeline import build_context

from conftest import PROJECT_ROOT

NAMES = list(FEATURES)


def model_data(**changes) -> dict:
    """A small hand-made model: churn rises with recency, value with spend."""
    width = len(NAMES)
    churn = [0.0] * width
    churn[NAMES.index("recency_days")] = 2.0
    value = [0.0] * width
    value[NAMES.index("spend_usd")] = 1.0
    data = {
        "format": "renderer-predictive", "version": 1,
        "features": [{"name": n, "transform": FEATURES[n].transform} for n in NAMES],
        "scaler": {"mean": [0.0] * width, "scale": [1.0] * width},
        "churn": {"kind": "logistic", "horizon_days": 90, "coef": churn, "intercept": -8.0,
                  "deciles": [0.1 * i for i in range(1, 10)]},
        "value": {"kind": "poisson", "horizon_days": 365, "coef": value, "intercept": 0.0,
                  "deciles": [10.0 * i for i in range(1, 10)]},
        "fit": {"seed": 0, "now": "2026-11-15T12:00:00+00:00", "profiles": 10, "churn_examples": 5,
                "value_examples": 5, "window_days": 365, "rates": {"USD": 1.0, "EUR": 1.08}},
    }
    for dotted, value_ in changes.items():
        target = data
        *path, last = dotted.split("__")
        for key in path:
            target = target[int(key) if isinstance(target, list) else key]
        target[last] = value_
    return data


@pytest.fixture
def model_file(tmp_path) -> Path:
    path = tmp_path / "predictive.json"
    path.write_text(json.dumps(model_data()), encoding="utf-8")
    return path


def buyer(days_ago: int, total: float = 50.0, currency: str = "USD", locale: str = "en-US") -> dict:
    placed = FIXTURE_NOW.timestamp() - days_ago * 86400
    from datetime import datetime, timezone
    stamp = datetime.fromtimestamp(placed, timezone.utc).isoformat()
    return {"id": f"b{days_ago}", "email": "b@example.com", "locale": locale,
            "orders": [{"id": "o1", "placed_at": stamp, "total": total, "currency": currency,
                        "items": [{"product_id": "FH-1001", "name": "Set", "price": total}]}]}


def test_recency_drives_the_hand_made_churn_and_spend_the_value(model_file):
    model = load_predictive(model_file)
    recent, lapsed = (Profile.model_validate(buyer(d)) for d in (5, 400))
    low = model.predict(recent, derive(recent, FIXTURE_NOW), FIXTURE_NOW)
    high = model.predict(lapsed, derive(lapsed, FIXTURE_NOW), FIXTURE_NOW)
    # logistic(-8 + 2 * log1p(days)): 5 days -> 0.0119, 400 days -> 0.9818.
    assert low.churn_probability == pytest.approx(1 / (1 + math.exp(8 - 2 * math.log1p(5))), abs=1e-4)
    assert low.churn_decile == 1 and high.churn_decile == 10
    assert high.churn_probability == pytest.approx(1 / (1 + math.exp(8 - 2 * math.log1p(400))), abs=1e-4)
    # exp(log1p(50)) = 51 USD expected; decile 6 of cut points 10, 20, ..., 90.
    assert low.expected_value == pytest.approx(51.0) and low.value_decile == 6
    # Lapsed for over a year: nothing spent in the window, so exp(log1p(0)) = 1.
    assert high.expected_value == pytest.approx(1.0)


def test_expected_value_is_in_the_profiles_currency(model_file):
    model = load_predictive(model_file)
    profile = Profile.model_validate(buyer(5, total=100.0, currency="EUR", locale="de-DE"))
    prediction = model.predict(profile, derive(profile, FIXTURE_NOW), FIXTURE_NOW)
    # 100 EUR is 108 USD in the file's rates; the 109 USD expected is 100.93 EUR.
    assert prediction.currency == "EUR" and prediction.expected_value == pytest.approx(109 / 1.08, abs=0.01)
    context = build_context(profile, [], None, now=FIXTURE_NOW, segments=[], defaults={}, brand={},
                            prediction=prediction)
    assert context["PredictedValue"]["formatted"] == "100,93\xa0€"
    assert context["PredictedChurn"] == {"probability": prediction.churn_probability,
                                         "percent": round(prediction.churn_probability * 100),
                                         "decile": prediction.churn_decile}


def test_rules_see_the_predictions_and_miss_them_without_a_model(model_file):
    rules = RuleSet.parse("segments:\n  - name: slipping\n    when: churn_decile >= 9 and expected_value < 5\n"
                          "  - name: scored\n    when: churn_probability is not none\n")
    model = load_predictive(model_file)
    lapsed = Profile.model_validate(buyer(400))
    assert rules.assign(lapsed, FIXTURE_NOW, predict=model.predict).segments == ["slipping", "scored"]
    without = rules.assign(lapsed, FIXTURE_NOW)
    assert without.segments == [] and without.prediction is None
    assert without.outcomes[0].note == "missing data: churn_decile, expected_value"


def test_engine_scores_each_recipient_and_the_bundled_predictive_segment_matches(tmp_path):
    data = model_data()
    data["value"]["deciles"] = [1.0 + i for i in range(9)]  # everyone who spent is high value here
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    engine = Engine(predictive=path)
    # Lapsed for 200 days, having spent in the window: likely to churn and valuable.
    _, prepared = engine.prepare("win_back", profile=buyer(200, total=400.0), now=FIXTURE_NOW)
    assert "valuable_at_risk" in prepared.segments
    assert prepared.context["PredictedChurn"]["decile"] == 10
    _, recent = engine.prepare("win_back", profile=buyer(3, total=400.0), now=FIXTURE_NOW)
    assert "valuable_at_risk" not in recent.segments and recent.context["PredictedChurn"]["decile"] == 1
    # Without the model the segment matches no one and the tokens are empty.
    _, plain = Engine().prepare("win_back", profile=buyer(200, total=400.0), now=FIXTURE_NOW)
    assert "valuable_at_risk" not in plain.segments and plain.context["PredictedChurn"] is None
    assert Engine(predictive=path).content_hash() != Engine().content_hash()
    assert engine.config()["predictive"] == str(path)


def test_a_prediction_pickles():
    prediction = Prediction(0.5, 6, 12.5, 3, "USD")
    assert pickle.loads(pickle.dumps(prediction)) == prediction


@pytest.mark.parametrize("changes,message", [
    ({"format": "renderer-personas"}, 'not a predictive model file .expected "format": "renderer-predictive"'),
    ({"version": 2}, "version 2 is not supported .* fit it again"),
    ({"churn__coef": [1.0]}, "churn.coef has 1 values for 9 features"),
    ({"scaler__scale": [0.0] * 9}, "scaler.scale.0: Input should be greater than 0"),
    ({"churn__deciles": [0.5] * 8}, "churn.deciles: List should have at least 9 items"),
    ({"churn__deciles": [0.9, 0.1] + [0.5] * 7}, "deciles must be ascending"),
    ({"features__0__name": "favourite_colour"}, "unknown feature 'favourite_colour'"),
    ({"features__0__transform": "identity"}, "'recency_days' has transform 'identity', this version uses 'log1p'"),
    ({"value__kind": "logistic"}, "value a poisson model"),
    ({"churn__intercept": float("nan")}, "churn.intercept"),
    ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
])
def test_a_bad_model_file_fails_at_load_naming_the_problem(changes, message):
    with pytest.raises(ModelFileError, match=message) as error:
        parse_predictive(model_data(**changes), "p.json")
    assert error.value.filename == "p.json"


def test_broken_json_names_the_line_and_a_missing_file_is_plain(tmp_path):
    path = tmp_path / "p.json"
    text = json.dumps(model_data(), indent=2)
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"p.json:\d+: not valid JSON"):
        load_predictive(path)
    with pytest.raises(ModelFileError, match="cannot read predictive model file"):
        load_predictive(tmp_path / "missing.json")
    # The Engine refuses it at construction, not at the first render.
    with pytest.raises(ModelFileError, match="not valid JSON"):
        Engine(predictive=path)


def test_a_model_fitted_with_another_window_is_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(model_data(fit__window_days=180)), encoding="utf-8")
    with pytest.raises(ModelFileError, match="180-day feature window, but the segment rules use 365 days"):
        Engine(predictive=path)


def test_the_bundled_rules_name_the_predictive_fields():
    rules = RuleSet.load(PROJECT_ROOT / "segments.yaml")
    rule = next(r for r in rules.rules if r.name == "valuable_at_risk")
    assert rule.reads == {"value_decile", "churn_probability"}


def test_history_counts_orders_up_to_now_whatever_their_order_and_time_zone():
    from datetime import timedelta, timezone

    from renderer.audience.predictive import history

    def stamp(days: float) -> str:
        return (FIXTURE_NOW - timedelta(days=days)).isoformat()

    profile = Profile.model_validate({"id": "h", "email": "h@example.com", "orders": [
        {"id": str(days), "placed_at": stamp(days), "total": 1} for days in (100, 10, -5, 210)]})
    # 10, 100 and 210 days ago count (the order in 5 days does not): one within 90 days, a gap of 100 days.
    assert history(profile, FIXTURE_NOW) == (1, 100.0)
    assert history(profile, FIXTURE_NOW.astimezone(timezone(timedelta(hours=9)))) == (1, 100.0)
    assert history(profile, FIXTURE_NOW - timedelta(days=50)) == (1, 110.0)  # as of 50 days ago
    assert history(profile, FIXTURE_NOW - timedelta(days=150)) == (1, 30.0)  # only the oldest one then
    assert history(profile, FIXTURE_NOW - timedelta(days=400)) == (0, 30.0)  # none yet
    single = Profile.model_validate({"id": "s", "email": "s@example.com", "orders": [
        {"id": "1", "placed_at": stamp(3), "total": 1}]})
    assert history(single, FIXTURE_NOW) == (1, 30.0)  # one order: the 30-day floor


def test_the_one_call_columns_equal_the_readers(model_file):
    from renderer.audience.predictive import history

    model = load_predictive(model_file)
    assert model._standard
    for profile in (buyer(5), buyer(400), buyer(900, total=2000.0, currency="EUR"),
                    dict(buyer(30), signup_date="2026-01-01T00:00:00Z")):
        parsed = Profile.model_validate(profile)
        features, hist = derive(parsed, FIXTURE_NOW), history(parsed, FIXTURE_NOW)
        rates = model.spec.fit.rates
        assert model.raw_vector(features, hist) == [FEATURES[n].read(features, hist, rates) for n in NAMES]


def test_the_cli_refuses_a_corrupted_model_in_one_line(tmp_path, capsys):
    from renderer.cli.main import main

    broken = tmp_path / "predictive.json"
    broken.write_text('{"format": "renderer-predictive", "version": 1, "features": [', encoding="utf-8")
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(buyer(10)), encoding="utf-8")
    code = main(["--predictive", str(broken), "render", "welcome", "--profile", str(profile)])
    err = capsys.readouterr().err
    assert code != 0 and "predictive.json:1: not valid JSON" in err and "Traceback" not in err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(model_data()), encoding="utf-8")
    assert main(["--predictive", str(good), "render", "welcome", "--profile", str(profile),
                 "--out", str(tmp_path / "out.html")]) == 0
