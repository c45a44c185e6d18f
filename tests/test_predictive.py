"""The predictive model file: validated on load, scored per recipient, seen by rules and templates."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import pytest

from renderer import Engine
from renderer.audience.features import derive, derive_with_history
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


# A model as fitted on planted customers (seed 1, 3,000 profiles, fit seed 0), kept here fixed: the
# pinned figures below are what it scored before any change to the scoring code, bit for bit.
FITTED = {
    "format": "renderer-predictive", "version": 1,
    "features": [{"name": n, "transform": FEATURES[n].transform} for n in NAMES],
    "scaler": {"mean": [4.299226592, 3.27916057, 0.6002976158, 1.521549288, 2.425408367, 5.337557692,
                        0.3464136792, 0.07083113208, 6.644563814],
               "scale": [1.60834774, 3.619181601, 0.6459708074, 0.9570858866, 0.797847722, 2.829946149,
                         0.1860561289, 0.0614303853, 0.3893512748]},
    "churn": {"kind": "logistic", "horizon_days": 90,
              "coef": [0.03557801944, 0.8550292746, -0.2227008401, -0.214877361, -0.5697217168, -0.291110455,
                       -0.8083141954, -0.1405756541, 0.3201062859],
              "intercept": 0.4668109639,
              "deciles": [0.0833552225, 0.1486601841, 0.2210020434, 0.3239804357, 0.470111746, 0.6877900898,
                          0.9031081587, 0.9786332895, 0.9899999254]},
    "value": {"kind": "poisson", "horizon_days": 365,
              "coef": [0.09916975574, -0.4319725939, 0.04518097129, -0.8151450984, 0.6825102514, 1.910976609,
                       0.251228873, 0.05125657217, -0.3171519451],
              "intercept": 5.671454367,
              "deciles": [5.527718371, 10.63819704, 207.5733208, 404.3908166, 595.9048815, 801.0532367,
                          1051.287202, 1400.888802, 2013.230548]},
    "fit": {"seed": 0, "now": "2026-11-15T12:00:00+00:00", "profiles": 3000, "churn_examples": 2827,
            "value_examples": 2689, "window_days": 365,
            "rates": {"CAD": 0.73, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "USD": 1.0}},
}


def pinned_profile(name: str, orders: list[tuple[float, str, float, str]], **fields) -> dict:
    """``orders``: (days before FIXTURE_NOW, UTC offset as "+09:00", total, currency), in the order given."""
    from datetime import timedelta, timezone

    def stamp(days: float, offset: str) -> str:
        hours, minutes = int(offset[:3]), int(offset[0] + offset[4:])
        zone = timezone(timedelta(hours=hours, minutes=minutes))
        return (FIXTURE_NOW - timedelta(days=days)).astimezone(zone).isoformat()

    return {"id": name, "email": f"{name}@example.com", **fields,
            "orders": [{"id": f"{name}-{i}", "placed_at": stamp(days, offset), "total": total, "currency": currency}
                       for i, (days, offset, total, currency) in enumerate(orders)]}


PINNED_PROFILES = [
    pinned_profile("regular", [(d, "+00:00", 42.5 + d / 10, "USD") for d in (8, 37, 69, 98, 130, 161, 190, 222)],
                   signup_date="2024-09-01T10:00:00Z",
                   engagement={"emails_received": 40, "opens": 18, "clicks": 4,
                               "last_open_at": "2026-11-12T08:00:00Z"}),
    # Listed out of order, in four time zones (two orders at one instant in two of them), one order
    # still to come, the latest in euros.
    pinned_profile("unsorted", [(150.25, "+09:00", 80, "USD"), (-5, "-05:00", 999, "EUR"),
                                (20.5, "+09:00", 64.9, "EUR"), (300, "-05:30", 12, "EUR"), (45, "+00:00", 30, "EUR"),
                                (20.5, "+00:00", 5, "EUR")],
                   engagement={"emails_received": 12, "opens": 12, "clicks": 9}),
    pinned_profile("lapsed", [(400, "+01:00", 120, "GBP"), (520, "+01:00", 75, "GBP"), (610.75, "+00:00", 300, "GBP")],
                   signup_date="2023-01-15T00:00:00Z"),
    pinned_profile("single", [(12.3, "+09:00", 15000, "JPY")], signup_date="2026-10-26T00:00:00+09:00",
                   engagement={"emails_received": 3, "opens": 1}),
    pinned_profile("burst", [(d / 3, "-04:00", 19.99 * (1 + d % 3), "CAD") for d in range(0, 180, 9)] +
                   [(0, "-04:00", 7, "CAD")], signup_date="2026-08-01T00:00:00Z",
                   engagement={"emails_received": 200, "opens": 30, "clicks": 2,
                               "last_click_at": "2026-10-01T00:00:00Z"}),
    pinned_profile("only_future", [(-3, "+00:00", 50, "USD")]),
    pinned_profile("never", []),
]

# (churn probability, expected value in USD) unrounded, then the Prediction, per profile above.
PINNED = {
    "regular": ((0.24874693899674719, 332.32883300095034), Prediction(0.2487, 4, 332.33, 4, "USD")),
    "unsorted": ((3.740202897951717e-05, 122144.13147672333), Prediction(0.0, 1, 113096.42, 10, "EUR")),
    "lapsed": ((0.9903384985744251, 4.29505262864638), Prediction(0.9903, 10, 3.38, 1, "GBP")),
    "single": ((0.17851680978324988, 1824.5925328124172), Prediction(0.1785, 3, 272327.24, 9, "JPY")),
    "burst": ((0.059811089757764384, 843.4349036283369), Prediction(0.0598, 1, 1155.39, 7, "CAD")),
    "only_future": ((0.13421620626817032, 944.9215082463849), Prediction(0.1342, 2, 944.92, 7, "USD")),
    "never": (None, None),
}


@pytest.mark.parametrize("data", PINNED_PROFILES, ids=lambda p: p["id"])
def test_a_fixed_fitted_model_scores_as_it_always_has(data):
    from renderer.audience.predictive import history

    model = parse_predictive(FITTED, "fitted.json")
    profile = Profile.model_validate(data)
    features = derive(profile, FIXTURE_NOW)
    expected_scores, expected = PINNED[data["id"]]
    assert model.predict(profile, features, FIXTURE_NOW) == expected
    if expected is not None:
        assert model.scores(model.raw_vector(features, history(profile, FIXTURE_NOW))) == expected_scores
    # The way a render scores: the history from the features' own pass over the orders.
    same, hist = derive_with_history(profile, FIXTURE_NOW)
    assert same == features and hist == history(profile, FIXTURE_NOW)
    assert model.predict(profile, features, FIXTURE_NOW, hist) == expected
    if expected is not None:
        assert model.score(features, hist) == expected_scores
    rules = RuleSet.parse("segments:\n  - name: scored\n    when: churn_probability is not none\n")
    assert rules.assign(profile, FIXTURE_NOW, predict=model.predict).prediction == expected


def test_the_features_pass_gives_the_history_of_the_orders_at_any_date():
    import random
    from datetime import timedelta

    from renderer.audience.predictive import history
    from renderer.devtools.planted import generate_planted_profiles

    shuffle = random.Random(4)
    zones = ["+00:00", "+09:00", "-05:00", "+05:30"]
    checked = 0
    for data in generate_planted_profiles(150, seed=8, now=FIXTURE_NOW):
        orders = data["orders"]
        shuffle.shuffle(orders)  # in no particular order, some written in other time zones
        for order in orders[: len(orders) // 3]:
            order["placed_at"] = _in_zone(order["placed_at"], shuffle.choice(zones))
        profile = Profile.model_validate(data)
        for days in (0, 45, 200, 800):  # as of past dates too: later orders are then still to come
            now = FIXTURE_NOW - timedelta(days=days)
            features, hist = derive_with_history(profile, now)
            assert features == derive(profile, now)
            assert hist == history(profile, now), (data["id"], days)
            checked += bool(hist.orders_90d)
    assert checked > 100


def _in_zone(stamp: str, offset: str) -> str:
    from datetime import datetime, timedelta, timezone

    hours, minutes = int(offset[:3]), int(offset[0] + offset[4:])
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(timezone(timedelta(hours=hours, minutes=minutes))).isoformat()


def test_the_one_step_score_is_the_columns_then_the_scores_bit_for_bit():
    from renderer.audience.predictive import history
    from renderer.devtools.planted import generate_planted_profiles

    model = parse_predictive(FITTED, "fitted.json")
    assert model._standard
    scored = 0
    for data in generate_planted_profiles(300, seed=9, now=FIXTURE_NOW):
        profile = Profile.model_validate(data)
        features, hist = derive_with_history(profile, FIXTURE_NOW)
        if features.rfm.currency is not None:
            columns = model.raw_vector(features, history(profile, FIXTURE_NOW))
            assert model.score(features, hist) == model.scores(columns)
            scored += 1
    assert scored > 200
