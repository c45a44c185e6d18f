from __future__ import annotations

import json
from collections import Counter

import pytest
from sklearn.metrics import adjusted_rand_score

from renderer.audience.features import FeatureConfig, derive
from renderer.audience.fit.personas import fit_personas, read_features
from renderer.audience.personas import DEFAULT_FEATURES, Personas, load_personas
from renderer.base.errors import PersonaFitError
from renderer.base.models import Profile
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PROJECT_ROOT

NOW = "2026-11-15T12:00:00Z"
EXPECTED_NAMES = {
    "frequent_high_spender": "Frequent High-Spenders",
    "new_customer": "New Customers",
    "at_risk": "Lapsed Regulars",
}


def lines(profiles: list[dict]) -> list[str]:
    return [json.dumps(p, ensure_ascii=False) + "\n" for p in profiles]


def test_fit_recovers_the_planted_groups_and_names_them(planted_profiles, planted_personas):
    personas = load_personas(planted_personas)
    truth = [p["attributes"]["archetype"] for p in planted_profiles]
    # Assigned the way the engine does it: numpy nearest centroid on derived features.
    found = [personas.nearest(derive(Profile.model_validate(p), FIXTURE_NOW)).name for p in planted_profiles]
    assert adjusted_rand_score(truth, found) >= 0.9
    majority = {archetype: Counter(n for t, n in zip(truth, found) if t == archetype).most_common(1)[0][0]
                for archetype in EXPECTED_NAMES}
    assert majority == EXPECTED_NAMES


def test_fit_labels_match_the_file_assignment(planted_profiles):
    table = read_features(lines(planted_profiles), FIXTURE_NOW)
    result = fit_personas(table, now=FIXTURE_NOW, k=3, seed=0)
    personas = Personas.from_spec(result.spec)
    assert [personas.nearest_index(row)[0] for row in table.raw.tolist()] == result.labels.tolist()
    truth = [p["attributes"]["archetype"] for p in planted_profiles]
    assert adjusted_rand_score(truth, result.labels) >= 0.9


def test_auto_k_picks_three_for_three_planted_groups(planted_profiles):
    table = read_features(lines(planted_profiles), FIXTURE_NOW)
    spec = fit_personas(table, now=FIXTURE_NOW, seed=0).spec
    assert spec.fit.k == 3 == len(spec.personas)
    assert sorted(spec.fit.silhouette_by_k, key=int) == [str(k) for k in range(2, 9)]
    assert spec.fit.silhouette == max(spec.fit.silhouette_by_k.values())


def test_file_describes_the_fit(planted_personas):
    spec = load_personas(planted_personas).spec
    assert [f.name for f in spec.features] == list(DEFAULT_FEATURES)
    sizes = [p.size for p in spec.personas]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == spec.fit.profiles == 900
    assert sum(p.share for p in spec.personas) == pytest.approx(1.0, abs=1e-3)
    assert spec.fit.seed == 0 and spec.fit.now.startswith("2026-11-15T12:00")
    assert spec.fit.window_days == 365 and spec.fit.rates["EUR"] == 1.08
    high = next(p for p in spec.personas if p.name == "Frequent High-Spenders")
    # The centre is in original units: days, orders and US dollars.
    assert high.centre["recency_days"] < 30 and high.centre["frequency"] >= 6
    assert high.centre["monetary_usd"] > 1000 and high.centre["engagement_score"] > 50


def test_silhouette_is_computed_on_a_sample_of_big_inputs(planted_profiles):
    table = read_features(lines(planted_profiles), FIXTURE_NOW)
    spec = fit_personas(table, now=FIXTURE_NOW, k=3, seed=0, silhouette_sample=200).spec
    assert spec.fit.silhouette_sample == 200 and 0.5 < spec.fit.silhouette <= 1


def test_invalid_lines_are_counted_not_fatal(planted_profiles):
    source = lines(planted_profiles[:50]) + ['{"id": "broken"\n', "\n", json.dumps({"id": "x", "email": "no"})]
    table = read_features(source, FIXTURE_NOW)
    assert table.rows == 50 and table.invalid_count == 2
    assert [number for number, _ in table.invalid] == [51, 53]
    assert "line 53: email: not a valid email address" in table.invalid[1][1]


def test_the_window_and_rates_come_from_the_feature_config(planted_profiles):
    config = FeatureConfig(window_days=90, rates={"USD": 1.0, "EUR": 2.0})
    table = read_features(lines(planted_profiles[:60]), FIXTURE_NOW, config=config)
    spec = fit_personas(table, now=FIXTURE_NOW, k=2, config=config).spec
    assert spec.fit.window_days == 90 and spec.fit.rates == {"EUR": 2.0, "USD": 1.0}


def test_too_few_profiles_for_k_is_a_clear_error(planted_profiles):
    table = read_features(lines(planted_profiles[:3]), FIXTURE_NOW)
    with pytest.raises(PersonaFitError, match="3 profiles .* cannot form 5 personas"):
        fit_personas(table, now=FIXTURE_NOW, k=5)
    with pytest.raises(PersonaFitError, match="k must be at least 2"):
        fit_personas(table, now=FIXTURE_NOW, k=1)
    empty = read_features([], FIXTURE_NOW)
    with pytest.raises(PersonaFitError, match="0 profiles"):
        fit_personas(empty, now=FIXTURE_NOW)


def test_cli_fit_writes_the_same_bytes_for_the_same_seed(planted_profiles, tmp_path, capsys):
    source = tmp_path / "audience.jsonl"
    source.write_text("".join(lines(planted_profiles)), encoding="utf-8")
    first, second = tmp_path / "a" / "personas.json", tmp_path / "b" / "personas.json"
    for out in (first, second):
        assert main(["segments", "fit", str(source), "--auto-k", "--seed", "7", "--now", NOW,
                     "--out", str(out)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    printed = capsys.readouterr().out
    assert "Frequent High-Spenders" in printed and "persona:new_customers" in printed
    assert "900 profiles, 3 personas, silhouette" in printed and "k tried: 2:" in printed
    assert load_personas(first).spec.fit.seed == 7


def test_cli_fit_with_a_fixed_k_after_global_options(planted_profiles, tmp_path, capsys):
    source = tmp_path / "audience.jsonl"
    source.write_text("".join(lines(planted_profiles[:300])), encoding="utf-8")
    out = tmp_path / "p.json"
    assert main(["--debug", "--blocks", str(PROJECT_ROOT / "blocks"), "segments", "fit", str(source), "--k", "4",
                 "--now", NOW, "--out", str(out)]) == 0
    assert load_personas(out).spec.fit.k == 4
    assert "k tried" not in capsys.readouterr().out


def test_cli_fit_k_and_auto_k_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["segments", "fit", "x.jsonl", "--k", "3", "--auto-k", "--out", str(tmp_path / "p.json")])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_cli_fit_errors_are_plain_messages(tmp_path, capsys):
    source = tmp_path / "tiny.jsonl"
    source.write_text(json.dumps({"id": "a", "email": "a@example.com"}) + "\n")
    assert main(["segments", "fit", str(source), "--k", "3", "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert "cannot form 3 personas" in err and "Traceback" not in err
    assert not (tmp_path / "p.json").exists()


def test_plain_segments_report_still_takes_a_file(fixtures, tmp_path, capsys):
    source = tmp_path / "audience.jsonl"
    source.write_text("".join(json.dumps(fixtures.profile(n)) + "\n" for n in fixtures.profile_names()))
    assert main(["segments", str(source), "--now", NOW]) == 0
    assert f"{len(fixtures.profile_names())} profiles segmented" in capsys.readouterr().out
