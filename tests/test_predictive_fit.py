"""Fitting the churn and value models by time travel, on customers with a planted churn signal."""

from __future__ import annotations

import json

import numpy as np
import pytest

from renderer.audience.features import derive
from renderer.audience.fit.predictive import (
    fit_predictive,
    linear_scores,
    read_examples,
    transform,
)
from renderer.audience.predictive import Predictive, dump_predictive, history, load_predictive
from renderer.base.errors import ModelFitError
from renderer.base.models import Profile
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.planted import generate_planted_profiles

NOW = "2026-11-15T12:00:00Z"


def lines(profiles: list[dict]) -> list[str]:
    return [json.dumps(p) + "\n" for p in profiles]


@pytest.fixture(scope="module")
def audience() -> list[dict]:
    return list(generate_planted_profiles(3000, seed=3, now=FIXTURE_NOW))


@pytest.fixture(scope="module")
def table(audience):
    return read_examples(lines(audience), FIXTURE_NOW)


@pytest.fixture(scope="module")
def spec(table):
    return fit_predictive(table, now=FIXTURE_NOW, seed=0)


def test_churn_model_separates_the_planted_churners_and_beats_the_handwritten_score(spec):
    churn = spec.validation["churn"]
    assert churn["held_out"] > 600 and 0.3 < churn["base_rate"] < 0.7
    assert churn["roc_auc"] >= 0.8
    assert churn["roc_auc"] > churn["roc_auc_handwritten"]
    assert churn["brier"] < churn["brier_base_rate"]


def test_churn_probabilities_are_calibrated_on_the_held_out_part(spec):
    rows = spec.validation["churn"]["calibration"]
    count = sum(row["count"] for row in rows)
    gap = sum(row["count"] * abs(row["predicted"] - row["observed"]) for row in rows) / count
    assert count == spec.validation["churn"]["held_out"]
    assert gap < 0.08  # expected calibration error
    lift = spec.validation["churn"]["lift"]
    assert lift[0]["decile"] == 10 and lift[0]["mean"] > 2 * lift[-1]["mean"]


def test_value_model_beats_last_years_spend(spec):
    value = spec.validation["value"]
    assert value["held_out"] > 600
    assert value["mae"] < value["mae_baseline"]
    # Predictions are means: over the held-out customers they add up to about what was spent.
    assert value["mean_predicted"] == pytest.approx(value["mean_actual"], rel=0.15)


def test_examples_are_taken_as_of_the_past_date(audience, table):
    # Every customer who had ordered by now - 90 days is one churn example, labelled by the 90 days after.
    cutoff = FIXTURE_NOW.timestamp() - 90 * 86400
    placed = [[Profile.model_validate(p).orders[i].placed_at.timestamp() for i in range(len(p["orders"]))]
              for p in audience]
    had_ordered = [times for times in placed if any(t <= cutoff for t in times)]
    assert len(table.churn.target) == len(had_ordered)
    expected = [0.0 if any(cutoff < t for t in times) else 1.0 for times in had_ordered]
    assert list(table.churn.target) == expected
    # The columns never see an order after the past date: recency is at least 0 and orders_90d counts before it.
    raw = table.churn.matrix(len(table.features))
    assert (raw[:, table.features.index("recency_days")] >= 0).all()


def test_pure_python_scores_match_the_fitted_numbers(spec, table):
    model = Predictive.from_spec(spec)
    raw = table.current.matrix(len(table.features))[:200]
    expected_churn = linear_scores(spec.churn, spec.scaler, transform(raw, table.features))
    expected_value = linear_scores(spec.value, spec.scaler, transform(raw, table.features))
    got = np.array([model.scores(row) for row in raw.tolist()])
    assert np.allclose(got[:, 0], expected_churn, rtol=1e-9, atol=1e-12)
    assert np.allclose(got[:, 1], expected_value, rtol=1e-9)


def test_predict_reads_the_profile_at_now(spec, audience):
    model = Predictive.from_spec(spec)
    buyers = [Profile.model_validate(p) for p in audience[:300] if p["orders"]]
    for profile in buyers[:50]:
        features = derive(profile, FIXTURE_NOW)
        prediction = model.predict(profile, features, FIXTURE_NOW)
        churn, usd = model.scores(model.raw_vector(features, history(profile, FIXTURE_NOW)))
        assert prediction.churn_probability == round(churn, 4)
        rate = spec.fit.rates[features.rfm.currency]
        assert prediction.expected_value == round(usd / rate, 2)
        assert prediction.currency == features.rfm.currency
        assert 1 <= prediction.churn_decile <= 10 and 1 <= prediction.value_decile <= 10
    # Deciles are today's audience cut in ten: each decile holds about a tenth of the buyers.
    deciles = [model.predict(p, derive(p, FIXTURE_NOW), FIXTURE_NOW).churn_decile for p in buyers]
    counts = np.bincount(deciles, minlength=11)[1:]
    assert counts.min() > 0.4 * len(buyers) / 10


def test_a_customer_without_orders_gets_no_prediction(spec):
    profile = Profile.model_validate({"id": "n", "email": "n@example.com"})
    assert Predictive.from_spec(spec).predict(profile, derive(profile, FIXTURE_NOW), FIXTURE_NOW) is None


def test_planted_churners_score_higher(spec, audience):
    model = Predictive.from_spec(spec)
    churners, stayers = [], []
    for data in audience:
        profile = Profile.model_validate(data)
        prediction = model.predict(profile, derive(profile, FIXTURE_NOW), FIXTURE_NOW)
        if prediction is not None:
            (churners if data["attributes"]["planted_churn"] else stayers).append(prediction.churn_probability)
    assert np.mean(churners) > np.mean(stayers) + 0.3


def test_invalid_lines_are_counted_not_fatal(audience):
    source = lines(audience[:200]) + ['{"id": "broken"\n', json.dumps({"id": "x", "email": "no"}) + "\n"]
    table = read_examples(source, FIXTURE_NOW)
    assert table.profiles == 200 and table.invalid_count == 2
    assert [number for number, _ in table.invalid] == [201, 202]


def test_too_few_examples_is_a_clear_error(audience):
    table = read_examples(lines(audience[:20]), FIXTURE_NOW)
    with pytest.raises(ModelFitError, match="churn examples .* at least 40 are needed"):
        fit_predictive(table, now=FIXTURE_NOW)
    with pytest.raises(ModelFitError, match="test_share"):
        fit_predictive(table, now=FIXTURE_NOW, test_share=0.9)


def test_same_seed_same_bytes_and_the_file_loads(spec, table):
    again = fit_predictive(table, now=FIXTURE_NOW, seed=0)
    assert dump_predictive(again) == dump_predictive(spec)
    other = fit_predictive(table, now=FIXTURE_NOW, seed=1)
    assert dump_predictive(other) != dump_predictive(spec)


def test_cli_fit_predictive_writes_the_same_bytes_for_the_same_seed(audience, tmp_path, capsys):
    source = tmp_path / "audience.jsonl"
    source.write_text("".join(lines(audience[:1500])) + "{not json\n", encoding="utf-8")
    first, second = tmp_path / "a" / "predictive.json", tmp_path / "b" / "predictive.json"
    for out in (first, second):
        assert main(["segments", "fit-predictive", str(source), "--now", NOW, "--seed", "4",
                     "--out", str(out)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    captured = capsys.readouterr()
    assert "ROC AUC" in captured.out and "MAE" in captured.out and "hand-written churn_risk" in captured.out
    assert "invalid line 1501" in captured.err
    model = load_predictive(first)
    assert model.spec.fit.seed == 4 and model.spec.fit.invalid_lines == 1 and model.spec.churn.horizon_days == 90


def test_cli_fit_predictive_errors_are_plain_messages(tmp_path, capsys):
    source = tmp_path / "tiny.jsonl"
    source.write_text(json.dumps({"id": "a", "email": "a@example.com"}) + "\n")
    out = tmp_path / "p.json"
    assert main(["segments", "fit-predictive", str(source), "--now", NOW, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "0 churn examples" in err and "Traceback" not in err
    assert not out.exists()
