"""Synthetic customers with planted churn and co-purchase signals (renderer/devtools/planted.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from renderer.base.errors import ConfigError
from renderer.base.models import Profile
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.planted import PARTNER_PROBABILITY, generate_planted_profiles, partner_of, planted_catalog


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return list(generate_planted_profiles(1500, seed=2, now=FIXTURE_NOW))


def test_same_seed_same_profiles_and_another_seed_differs():
    first = list(generate_planted_profiles(100, seed=4, now=FIXTURE_NOW))
    assert first == list(generate_planted_profiles(100, seed=4, now=FIXTURE_NOW))
    assert first[:30] == list(generate_planted_profiles(30, seed=4, now=FIXTURE_NOW))
    assert first != list(generate_planted_profiles(100, seed=5, now=FIXTURE_NOW))


def test_profiles_validate_and_orders_add_up(sample):
    for data in sample[:300]:
        profile = Profile.model_validate(data)
        assert all(order.placed_at <= FIXTURE_NOW for order in profile.orders)
        for order in data["orders"]:
            assert order["total"] == pytest.approx(sum(i["price"] * i["quantity"] for i in order["items"]), abs=0.01)


def test_churners_stop_ordering_and_open_less(sample):
    recent = FIXTURE_NOW - timedelta(days=90)
    churners = [p for p in sample if p["attributes"]["planted_churn"]]
    stayers = [p for p in sample if not p["attributes"]["planted_churn"]]
    assert 0.3 < len(churners) / len(sample) < 0.7

    def ordered_lately(p: dict) -> bool:
        return any(Profile.model_validate(p).orders[i].placed_at > recent for i in range(len(p["orders"])))

    def open_rate(p: dict) -> float:
        return p["engagement"]["opens"] / p["engagement"]["emails_received"]

    assert sum(map(ordered_lately, churners)) / len(churners) < 0.15
    assert sum(map(ordered_lately, stayers)) / len(stayers) > 0.6
    assert sum(map(open_rate, churners)) / len(churners) < 0.5 * sum(map(open_rate, stayers)) / len(stayers)


def test_an_order_after_one_with_a_product_often_holds_its_partner(sample):
    followed = with_partner = 0
    for data in sample:
        orders = data["orders"][::-1]  # oldest first
        for before, after in zip(orders, orders[1:]):
            ids = {item["product_id"] for item in after["items"]}
            for item in before["items"]:
                followed += 1
                with_partner += partner_of(item["product_id"]) in ids
    assert with_partner / followed == pytest.approx(PARTNER_PROBABILITY, abs=0.08)


def test_catalog_partners_share_a_category_and_some_are_out_of_stock():
    catalog = {p["id"]: p for p in planted_catalog()}
    assert len(catalog) == 48 and sum(not p["in_stock"] for p in catalog.values()) == 4
    assert all(catalog[partner_of(pid)]["category"] == p["category"] for pid, p in catalog.items())
    with pytest.raises(ConfigError, match="even number"):
        planted_catalog(7)
    with pytest.raises(ConfigError, match="count must be"):
        generate_planted_profiles(-1, now=FIXTURE_NOW)


def test_cli_fixtures_generate_planted(tmp_path, capsys):
    from renderer.cli.main import main

    out = tmp_path / "planted.jsonl"
    assert main(["fixtures", "generate", "--planted", "--count", "5", "--seed", "3", "--out", str(out)]) == 0
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written == list(generate_planted_profiles(5, seed=3, now=FIXTURE_NOW))
