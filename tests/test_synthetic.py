from __future__ import annotations

import inspect
import json
import unicodedata
from collections import Counter
from datetime import datetime, timezone
from itertools import islice

import pytest

from renderer.base.models import Profile, parse
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.synthetic import ARCHETYPES, DEFAULT_WEIGHTS, generate_profiles, write_jsonl

CURRENCY = {"US": "USD", "DE": "EUR", "FR": "EUR", "ES": "EUR", "IT": "EUR", "JP": "JPY", "BR": "BRL", "EG": "EGP"}


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return list(generate_profiles(2000, seed=11, now=FIXTURE_NOW))


def days_ago(stamp: str | None) -> int | None:
    if stamp is None:
        return None
    return (FIXTURE_NOW - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).days


def test_same_seed_gives_the_same_profiles_and_another_seed_does_not():
    first = list(generate_profiles(200, seed=5, now=FIXTURE_NOW))
    assert first == list(generate_profiles(200, seed=5, now=FIXTURE_NOW))
    assert first[:50] == list(generate_profiles(50, seed=5, now=FIXTURE_NOW))
    other = list(generate_profiles(200, seed=6, now=FIXTURE_NOW))
    assert [p["email"] for p in other] != [p["email"] for p in first]


def test_profiles_validate_and_are_plain_json(sample):
    for data in sample[:500]:
        profile = parse(Profile, data, what="profile")
        assert profile.id == data["id"]
        assert json.loads(json.dumps(data)) == data
        assert data["signup_date"].endswith("Z")
        assert all(isinstance(o["total"], float) for o in data["orders"])


def test_order_totals_are_item_sums_in_the_locale_currency(sample):
    orders = 0
    for data in sample:
        currency = CURRENCY[data["location"]["country"]]
        for order in data["orders"]:
            orders += 1
            assert order["currency"] == currency
            assert order["total"] == round(sum(i["price"] * i["quantity"] for i in order["items"]), 2)
            if currency == "JPY":
                assert all(i["price"] == int(i["price"]) for i in order["items"])
        assert all(b["product"]["currency"] == currency for b in data["browsing"])
    assert orders > 2000


def test_every_archetype_appears_with_roughly_its_weight(sample):
    counts = Counter(p["attributes"]["archetype"] for p in sample)
    assert set(counts) == set(ARCHETYPES)
    for name, weight in DEFAULT_WEIGHTS.items():
        assert abs(counts[name] / len(sample) - weight) < 0.04, (name, counts[name])


def test_archetypes_keep_their_defining_traits(sample):
    for p in sample:
        orders, engagement = p["orders"], p["engagement"]
        ages = [days_ago(o["placed_at"]) for o in orders]
        signup, last_open = days_ago(p["signup_date"]), days_ago(engagement["last_open_at"])
        received, opens, clicks = engagement["emails_received"], engagement["opens"], engagement["clicks"]
        recent_views = sum(days_ago(b["viewed_at"]) < 14 for b in p["browsing"])
        assert clicks <= opens <= received
        assert all(signup >= age for age in ages + [last_open] if age is not None)
        assert (engagement["last_click_at"] is None) == (clicks == 0)
        if clicks:
            assert days_ago(engagement["last_click_at"]) >= last_open
        archetype = p["attributes"]["archetype"]
        if archetype == "new_customer":
            assert signup < 14 and len(orders) <= 1
        elif archetype == "frequent_high_spender":
            year = [o for o, age in zip(orders, ages) if age < 365]
            usd = sum(o["total"] for o in year) / {"USD": 1, "EUR": 0.93, "JPY": 150, "BRL": 5.5, "EGP": 48}[
                orders[0]["currency"]]
            assert 6 <= len(year) <= 15 and usd >= 1000 and min(ages) < 30 and opens / received > 0.5
        elif archetype == "occasional_browser":
            assert len(orders) in (1, 2) and 90 <= min(ages) < 300 and opens / received < 0.15 and recent_views >= 3
        elif archetype == "at_risk":
            assert len(orders) >= 3 and min(ages) > 180 and 60 <= last_open < 200
        elif archetype == "engaged_non_buyer":
            assert 30 <= signup < 400 and not orders and opens / received > 0.4 and clicks > 0 and last_open < 14
        elif archetype == "one_time_buyer":
            assert len(orders) == 1 and 20 <= ages[0] < 200 and 0.2 <= opens / received <= 0.4 and recent_views == 0
        else:
            assert not orders and opens <= 1 and signup > 180


def test_ids_are_unique_and_emails_repeat_only_as_planted_duplicates(sample):
    assert len({p["id"] for p in sample}) == len(sample)
    assert sample[0]["id"] == "syn_000001"
    repeats = Counter(p["email"] for p in sample)
    duplicates = sum(n - 1 for n in repeats.values() if n > 1)
    assert 1 <= duplicates <= 25
    assert all(p["email"].isascii() and p["email"].rsplit(".", 1)[1] in ("com", "org", "net") for p in sample)


def test_data_quality_quirks_are_occasional(sample):
    assert 10 <= sum("first_name" not in p for p in sample) <= 80
    assert 20 <= sum(not p["consent"]["email_marketing"] for p in sample) <= 110


def test_names_include_non_latin_scripts_and_an_rtl_locale(sample):
    scripts = {unicodedata.name(ch).split()[0] for p in sample for ch in p["last_name"] if ch.isalpha()}
    assert {"CJK", "ARABIC"} <= scripts
    egyptians = [p for p in sample if p["locale"] == "ar-EG"]
    assert egyptians and all(p["location"]["country"] == "EG" for p in egyptians)
    assert all(p["email"].isascii() for p in egyptians)


def test_generation_is_lazy():
    # A billion profiles would not fit in memory: only a generator can hand back five.
    stream = generate_profiles(10**9, seed=2, now=FIXTURE_NOW)
    assert inspect.isgenerator(stream)
    assert len(list(islice(stream, 5))) == 5


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"count": -1}, "count"),
    ({"count": "10"}, "count"),
    ({"count": 10, "weights": {"vip": 1.0}}, "weights"),
    ({"count": 10, "weights": {"at_risk": -1.0}}, "weights"),
    ({"count": 10, "weights": {"at_risk": 0}}, "weights"),
])
def test_bad_arguments_raise_at_the_call(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        generate_profiles(now=FIXTURE_NOW, **kwargs)


def test_weights_choose_the_archetypes():
    profiles = generate_profiles(50, now=FIXTURE_NOW, weights={"at_risk": 1.0})
    assert {p["attributes"]["archetype"] for p in profiles} == {"at_risk"}


def test_naive_now_is_utc():
    naive = datetime(2026, 11, 15, 12)
    aware = datetime(2026, 11, 15, 12, tzinfo=timezone.utc)
    assert list(generate_profiles(20, now=naive)) == list(generate_profiles(20, now=aware))


def test_write_jsonl_writes_one_compact_unescaped_object_per_line(tmp_path):
    path = tmp_path / "profiles.jsonl"
    profiles = list(generate_profiles(300, seed=3, now=FIXTURE_NOW))
    assert write_jsonl(iter(profiles), path) == 300
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == profiles
    assert all(line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":")) for line in lines)
    assert any(not line.isascii() and "\\u" not in line for line in lines)
