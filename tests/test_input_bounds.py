"""Caps before validation and bounded numbers: no single recipient's data is expensive or crashes a render."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from batch_support import read_records

from renderer import InvalidInput
from renderer.audience.features import derive
from renderer.base.limits import Limits
from renderer.base.models import Profile, parse
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW

PROFILE = {"id": "c1", "email": "ana@example.com", "first_name": "Ana"}


def orders(count: int, start: datetime = datetime(2020, 1, 1, tzinfo=timezone.utc)) -> list[dict]:
    return [{"id": f"o{i}", "placed_at": (start + timedelta(hours=i)).isoformat(), "total": "10.00",
             "items": [{"product_id": "p", "name": "Mug", "price": "10.00"}]} for i in range(count)]


def product(index: int) -> dict:
    return {"id": f"P{index}", "name": f"Product {index}", "url": f"https://shop.example/p/{index}", "price": "5.00"}


def test_a_long_order_history_keeps_its_newest_end_and_counts_every_order():
    history = orders(100_000)  # oldest first
    profile = parse(Profile, dict(PROFILE, orders=history), what="profile")
    assert [o.id for o in profile.orders] == [f"o{i}" for i in range(99_950, 100_000)]
    assert profile.cuts == ["orders: 100,000 given, the newest 50 read (the last in the list) (Limits)"]
    assert profile.order_count == 100_000
    assert len(history) == 100_000, "the caller's data is not changed"


def test_a_cut_profile_keeps_its_cuts_and_order_count_when_pickled_copied_and_compared():
    import pickle

    profile = parse(Profile, dict(PROFILE, orders=orders(120)), what="profile")
    uncut = parse(Profile, dict(PROFILE, orders=orders(120)[-50:]), what="profile")
    for copy in (pickle.loads(pickle.dumps(profile)), profile.model_copy(), profile.model_copy(deep=True)):
        assert copy.cuts == profile.cuts == ["orders: 120 given, the newest 50 read (the last in the list) (Limits)"]
        assert copy.order_count == 120 and copy == profile
    assert uncut.cuts == [] and uncut.order_count == 50 and uncut.orders == profile.orders
    assert Profile.model_validate(dict(PROFILE)).cuts == [] and Profile(**PROFILE).order_count == 0


def test_a_history_given_newest_first_keeps_the_first_entries():
    history = orders(10_000)[::-1]
    profile = parse(Profile, dict(PROFILE, orders=history), what="profile")
    assert [o.id for o in profile.orders] == [f"o{i}" for i in range(9_999, 9_949, -1)]
    assert profile.cuts == ["orders: 10,000 given, the newest 50 read (the first in the list) (Limits)"]
    features = derive(profile, FIXTURE_NOW)
    assert features.order_count == 10_000
    newest = datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(hours=9_999)
    assert features.rfm.recency_days == (FIXTURE_NOW - newest).days


def test_a_problem_in_a_cut_history_is_named_by_its_place_in_the_list_as_given():
    history = orders(10_000)
    history[9_990] = dict(history[9_990], total="ten")
    with pytest.raises(InvalidInput) as caught:
        parse(Profile, dict(PROFILE, orders=history), what="profile")
    assert [p.loc for p in caught.value.problems] == ["orders.9990.total"]


def test_only_the_newest_orders_are_validated_however_long_the_history():
    # What makes a 10,000-order profile cost about what a 50-order one does
    # (benchmarks/bench_history.py times it): the older orders are not read.
    history = orders(10_000)
    history[0] = dict(history[0], total="not a number")  # the oldest: never read
    profile = parse(Profile, dict(PROFILE, orders=history), what="profile")
    assert len(profile.orders) == 50 and profile.order_count == 10_000


def test_the_caps_are_configurable_and_say_what_they_cut(engine):
    from renderer import Engine

    small = Engine(limits=Limits(history=5, input_items=3))
    profile = dict(PROFILE, orders=orders(8), attributes={f"k{i}": i for i in range(10)},
                   browsing=[{"product": product(i), "viewed_at": "2026-11-01T00:00:00Z"} for i in range(9)])
    event = {"type": "cart_abandoned", "occurred_at": "2026-11-15T10:00:00Z",
             "cart": {"items": [{"product": product(i)} for i in range(7)]}}
    email = small.render("abandoned_cart", profile=profile, event=event, recommendations=[product(i) for i in range(6)],
                         now=FIXTURE_NOW)
    for line in ("orders: 8 given, the newest 5 read (the last in the list) (Limits)",
                 "browsing: 9 given, the newest 5 read (the last in the list) (Limits)",
                 "attributes: 10 given, the first 3 read (Limits)",
                 "event.cart.items: 7 given, the first 3 read (Limits)",
                 "recommendations: 6 products given, the first 3 read (Limits)"):
        assert line in email.warnings, email.warnings


def test_a_profile_of_100000_orders_and_a_cart_of_100000_items_renders_with_warnings(engine):
    profile = dict(PROFILE, orders=orders(100_000))
    event = {"type": "cart_abandoned", "occurred_at": "2026-11-15T10:00:00Z",
             "cart": {"items": [{"product": product(i)} for i in range(100_000)]}}
    email = engine.render("abandoned_cart", profile=profile, event=event, now=FIXTURE_NOW)
    assert "orders: 100,000 given, the newest 50 read (the last in the list) (Limits)" in email.warnings
    assert "event.cart.items: 100,000 given, the first 1,000 read (Limits)" in email.warnings
    assert "Product 0" in email.html


@pytest.mark.parametrize("where,change", [
    ("event.cart.items.0.quantity", lambda p, e: e["cart"]["items"][0].update(quantity=10**27)),
    ("profile.orders.0.items.0.quantity", lambda p, e: p["orders"][0]["items"][0].update(quantity=10**27)),
    ("profile.engagement.opens", lambda p, e: p.update(engagement={"opens": 10**30})),
    ("profile.orders.0.placed_at", lambda p, e: p["orders"][0].update(placed_at="0001-01-01T00:00:00Z")),
    ("profile.signup_date", lambda p, e: p.update(signup_date="9999-12-31T00:00:00Z")),
    ("event.occurred_at", lambda p, e: e.update(occurred_at="0001-01-01T00:00:00Z")),
    ("profile.last_sent.cart_abandoned", lambda p, e: p.update(last_sent={"cart_abandoned": "0001-01-02"})),
])
def test_numbers_and_times_out_of_range_are_invalid_input_naming_the_field(engine, where, change):
    profile = dict(PROFILE, orders=orders(2))
    event = {"type": "cart_abandoned", "occurred_at": "2026-11-15T10:00:00Z",
             "cart": {"items": [{"product": product(1), "quantity": 2}]}}
    change(profile, event)
    with pytest.raises(InvalidInput) as error:
        engine.render("abandoned_cart", profile=profile, event=event, now=FIXTURE_NOW)
    assert where in [p.loc for p in error.value.problems], error.value.problems


@pytest.mark.parametrize("now", [datetime(1, 1, 1), datetime(9999, 12, 31, tzinfo=timezone.utc)])
def test_a_clock_out_of_range_is_invalid_input_naming_now(engine, now):
    with pytest.raises(InvalidInput) as error:
        engine.render("welcome", profile=PROFILE, now=now)
    assert [p.loc for p in error.value.problems] == ["now"]


def test_the_cli_refuses_an_out_of_range_now_plainly(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(PROFILE), encoding="utf-8")
    assert main(["render", "welcome", "--profile", str(path), "--now", "0001-01-01"]) == 2
    err = capsys.readouterr().err
    assert "now" in err and "must lie between 1900-01-01 and 2200-01-01" in err and "Traceback" not in err


def test_a_huge_quantity_in_a_batch_is_one_invalid_input_record(tmp_path):
    good = dict(PROFILE, id="ok")
    bad = {"profile": dict(PROFILE, id="bad"), "event": {
        "type": "cart_abandoned", "occurred_at": "2026-11-15T10:00:00Z",
        "cart": {"items": [{"product": product(1), "quantity": 10**27}]}}}
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    main(["batch", "abandoned_cart", "--profiles", str(source), "--out", str(out), "--now", "2026-11-15T12:00:00Z"])
    records = read_records(out)
    assert [r["status"] for r in records][1] == "failed"
    assert records[1]["kind"] == "InvalidInput"
    assert any(p["loc"] == ["event", "cart", "items", 0, "quantity"] for p in records[1]["problems"]), records[1]
