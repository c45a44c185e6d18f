"""The embedded co-purchase recommender: fitted from order histories, a plain JSON file, a source like any other."""

from __future__ import annotations

import json
import pickle

import pytest

from renderer import Engine
from renderer.audience.fit.copurchase import (
    dump_copurchase,
    evaluate,
    fit_copurchase,
    read_catalog,
    read_histories,
)
from renderer.base.errors import ModelFileError, ModelFitError
from renderer.base.models import Profile
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.planted import generate_planted_profiles, partner_of, planted_catalog
from renderer.sources.base import RecommendationSource
from renderer.sources.copurchase import CoPurchaseRecommendations

NOW = "2026-11-15T12:00:00Z"


def lines(profiles: list[dict]) -> list[str]:
    return [json.dumps(p) + "\n" for p in profiles]


@pytest.fixture(scope="module")
def catalog():
    return read_catalog(json.dumps(planted_catalog()), "catalog.json")


@pytest.fixture(scope="module")
def audience() -> list[dict]:
    return list(generate_planted_profiles(2000, seed=8, now=FIXTURE_NOW))


@pytest.fixture(scope="module")
def histories(audience):
    return read_histories(lines(audience))


@pytest.fixture(scope="module")
def source(histories, catalog) -> CoPurchaseRecommendations:
    return CoPurchaseRecommendations(fit_copurchase(histories, catalog))


def order(pid: str, day: int) -> dict:
    return {"id": f"o{day}", "placed_at": f"2026-10-{day:02d}T10:00:00Z", "total": 10.0,
            "items": [{"product_id": pid, "name": pid, "price": 10.0}]}


def test_hit_rate_at_4_is_at_least_twice_the_bestsellers(histories, catalog):
    result = evaluate(histories, catalog)
    assert result["k"] == 4 and result["held_out_customers"] > 500
    assert result["hit_rate"] >= 2 * result["hit_rate_bestsellers"]
    assert result["hit_rate_bestsellers"] > 0.05  # the baseline is a real one, not zero


def test_the_planted_partner_is_the_nearest_neighbour(source, catalog):
    in_stock = {p.id for p in catalog if p.in_stock}
    nearest = {pid: pairs[0][0] for pid, pairs in source._neighbours.items()}
    right = sum(nearest[pid] == partner_of(pid) for pid in nearest if partner_of(pid) in in_stock)
    assert right >= 0.9 * sum(partner_of(pid) in in_stock for pid in nearest)


def test_recommendations_skip_what_was_bought_and_what_is_out_of_stock(source, catalog):
    out_of_stock = next(p.id for p in catalog if not p.in_stock)  # PL-1011, partner of PL-1010
    profile = Profile.model_validate({"id": "c", "email": "c@example.com",
                                      "orders": [order("PL-1010", 1), order("PL-1000", 2)]})
    picked = [p.id for p in source.fetch(profile, 4)]
    assert len(picked) == 4 and len(set(picked)) == 4
    assert out_of_stock not in picked and "PL-1010" not in picked and "PL-1000" not in picked
    assert picked[0] == "PL-1001"  # PL-1000's partner
    assert all(p.in_stock for p in source.fetch(profile, 40))


def test_browsing_counts_with_less_weight(source):
    profile = Profile.model_validate({"id": "v", "email": "v@example.com", "browsing": [
        {"product": {"id": "PL-1004", "name": "x", "url": "https://shop.example/x", "price": 1},
         "viewed_at": "2026-11-01T00:00:00Z"}]})
    assert source.fetch(profile, 1)[0].id == "PL-1005"


def test_without_neighbours_it_falls_back_to_the_category_bestsellers(catalog):
    # One customer bought Home products only; another bought a Bath product alone (no pair to learn from).
    histories = read_histories(lines([
        {"id": "a", "email": "a@example.com", "orders": [order("PL-1002", 1), order("PL-1003", 2)]},
        {"id": "b", "email": "b@example.com", "orders": [order("PL-1002", 3)]},
        {"id": "c", "email": "c@example.com", "orders": [order("PL-1004", 4)]},
    ]))
    source = CoPurchaseRecommendations(fit_copurchase(histories, catalog))
    assert source.spec.bestsellers["_all"] == ["PL-1002", "PL-1003", "PL-1004"]
    assert source.spec.bestsellers["Bath"] == ["PL-1004"]
    newcomer = Profile.model_validate({"id": "n", "email": "n@example.com", "orders": [order("PL-1012", 5)]})
    # PL-1012 (Bath) has no neighbours: first the Bath bestsellers, then the overall ones.
    assert [p.id for p in source.fetch(newcomer, 3)] == ["PL-1004", "PL-1002", "PL-1003"]
    nobody = Profile.model_validate({"id": "z", "email": "z@example.com"})
    assert [p.id for p in source.fetch(nobody, 2)] == ["PL-1002", "PL-1003"]


def test_the_file_round_trips_and_the_source_pickles(source, histories, catalog, tmp_path):
    text = dump_copurchase(source.spec)
    assert text == dump_copurchase(fit_copurchase(histories, catalog))  # same histories, same bytes
    path = tmp_path / "recs.json"
    path.write_text(text, encoding="utf-8")
    loaded = CoPurchaseRecommendations.load(path)
    twin = pickle.loads(pickle.dumps(loaded))
    assert isinstance(twin, RecommendationSource)
    profile = Profile.model_validate({"id": "c", "email": "c@example.com", "orders": [order("PL-1006", 1)]})
    assert [p.id for p in twin.fetch(profile, 4)] == [p.id for p in source.fetch(profile, 4)]


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(format="renderer-predictive"), 'not a recommendation model file'),
    (lambda d: d.update(version=3), "version 3 is not supported"),
    (lambda d: d["neighbours"].update({"PL-1000": [["NOPE", 0.5]]}),
     r"neighbours.PL-1000: unknown products \['NOPE'\]"),
    (lambda d: d["neighbours"].update({"PL-1000": [["PL-1001", -1]]}), "greater than or equal to 0"),
    (lambda d: d["bestsellers"].pop("_all"), "bestsellers needs the overall list '_all'"),
    (lambda d: d["products"].append(dict(d["products"][0])), "an id is listed twice"),
    (lambda d: d["products"][0].pop("url"), r"products.0.url: Field required"),
])
def test_a_bad_model_file_fails_at_load_naming_the_problem(source, change, message):
    data = json.loads(dump_copurchase(source.spec))
    change(data)
    with pytest.raises(ModelFileError, match=message):
        CoPurchaseRecommendations.parse(data, "recs.json")


def test_broken_json_names_the_line(source, tmp_path):
    path = tmp_path / "recs.json"
    text = dump_copurchase(source.spec)
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"recs.json:\d+: not valid JSON"):
        CoPurchaseRecommendations.load(path)


def test_a_catalog_nobody_bought_from_is_a_clear_error(histories):
    other = read_catalog(json.dumps([{"id": "X1", "name": "x", "url": "https://x.example/", "price": 1}]), "c")
    with pytest.raises(ModelFitError, match="no product of the catalog was ever bought"):
        fit_copurchase(histories, other)
    with pytest.raises(ModelFitError, match="not valid JSON"):
        read_catalog("[", "catalog.json")


def test_engine_renders_personal_products_without_an_api(source, audience):
    engine = Engine(recommendations=source)
    buyers = [p for p in audience if len(p["orders"]) >= 2][:2]
    shown = []
    for profile in buyers:
        email = engine.render("recommendations", profile=profile, now=FIXTURE_NOW)
        assert not [w for w in email.warnings if "recommendations unavailable" in w]
        _, prepared = engine.prepare("recommendations", profile=profile, now=FIXTURE_NOW)
        names = [p["name"] for p in prepared.context["RecommendedProducts"]]
        assert names and all(name in email.html for name in names[:2])
        shown.append(names)
    assert shown[0] != shown[1]


def test_cli_recommend_fit_reports_hit_rates_and_render_uses_the_model(audience, tmp_path, capsys):
    source = tmp_path / "audience.jsonl"
    source.write_text("".join(lines(audience[:800])) + "{broken\n", encoding="utf-8")
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(planted_catalog()), encoding="utf-8")
    out = tmp_path / "recs.json"
    assert main(["recommend", "fit", str(source), "--catalog", str(catalog), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "hit rate @ 4 on" in captured.out and "(bestsellers:" in captured.out
    assert "invalid line 801" in captured.err
    spec = CoPurchaseRecommendations.load(out).spec
    assert spec.validation["hit_rate"] > spec.validation["hit_rate_bestsellers"]
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(next(p for p in audience if len(p["orders"]) >= 2)), encoding="utf-8")
    html = tmp_path / "email.html"
    assert main(["--recommender", str(out), "render", "recommendations", "--profile", str(profile),
                 "--now", NOW, "--out", str(html)]) == 0
    assert "shop.example/p/pl-" in html.read_text(encoding="utf-8")


def test_batch_workers_use_the_source_and_the_predictive_model(source, audience, tmp_path):
    from renderer import render_many
    from renderer.audience.fit.predictive import fit_predictive, read_examples
    from renderer.audience.predictive import dump_predictive

    model = tmp_path / "predictive.json"
    model.write_text(dump_predictive(fit_predictive(read_examples(lines(audience), FIXTURE_NOW),
                                                    now=FIXTURE_NOW)), encoding="utf-8")
    engine = Engine(recommendations=source, predictive=model, auto_reload=False)
    requests = [{"template": "recommendations", "profile": p, "now": FIXTURE_NOW} for p in audience[:40]]
    local = list(render_many(requests, engine=engine))
    forked = list(render_many(requests, engine=engine, workers=2, chunk_size=10))
    assert [r.html for r in forked] == [r.html for r in local]
    assert [r.segments for r in forked] == [r.segments for r in local]
    assert all("shop.example/p/pl-" in r.html for r in local)  # every planted customer consented
