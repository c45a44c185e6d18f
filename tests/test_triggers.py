from __future__ import annotations

from datetime import timedelta

import lxml.html
import pytest

from renderer import InvalidInput, TemplateNotFound
from renderer.audience.triggers import TriggerRule
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW
from renderer.content.json_io import read_json

from conftest import PROJECT_ROOT
from profiles import iso, make_profile

EVENTS = PROJECT_ROOT / "fixtures" / "events"


def event(kind: str = "cart_abandoned", hours_ago: float = 3, **changes) -> dict:
    data = read_json(EVENTS / f"{kind}.json")
    data["occurred_at"] = iso(hours_ago / 24)
    data.update(changes)
    return data


def outcome(engine, profile=None, **event_options):
    return engine.render_event(profile=profile or make_profile(id="t1").model_dump(mode="json"),
                               event=event(**event_options), now=FIXTURE_NOW)


def test_each_event_type_picks_its_template(engine):
    assert engine.trigger_templates() == {"cart_abandoned": "abandoned_cart",
                                          "browse_abandoned": "browse_abandonment",
                                          "engaged_no_purchase": "engaged_incentive"}


def test_cart_abandoned_sends_the_cart(engine):
    result = outcome(engine)
    assert result.sent and result.template == "abandoned_cart" and result.skip is None
    assert "Stoneware Pour-Over Coffee Set" in result.email.html
    assert "https://fernhill.example/cart/restore/abc123" in result.email.html
    shown = lxml.html.fromstring(result.email.html).text_content()
    assert "Qty 2" in shown and "$290.00" in shown
    cart_ids = {i["product"]["id"] for i in event()["cart"]["items"]}
    recommended = [b for b in result.email.blocks if b == "product_grid"]
    assert recommended, "bestsellers fill the grid"
    assert not any(f"/products/{pid}.png" in result.email.html.split("Pairs well with")[1] for pid in cart_ids), \
        "recommendations exclude what is in the cart"


@pytest.mark.parametrize("profile_changes,event_options,code", [
    ({"consent": {"email_marketing": False}}, {}, "no_consent"),
    ({}, {"hours_ago": 0.5}, "event_too_recent"),
    ({}, {"hours_ago": 24 * 7 + 1}, "event_too_old"),
    ({}, {"cart": {"items": [], "currency": "USD"}}, "empty_cart"),
    ({}, {"kind": "browse_abandoned", "products": []}, "no_viewed_products"),
    ({"orders": [{"id": "o9", "placed_at": iso(0.05), "total": 10}]}, {}, "purchased_after_event"),
    ({"orders": [{"id": "o9", "placed_at": iso(5), "total": 10}]}, {"kind": "engaged_no_purchase"}, "recent_buyer"),
    ({"last_sent": {"cart_abandoned": iso(1)}}, {}, "sent_recently"),
])
def test_every_skip_rule(engine, profile_changes, event_options, code):
    profile = make_profile(id="t1").model_dump(mode="json") | profile_changes
    result = outcome(engine, profile, **event_options)
    assert not result.sent and result.email is None
    assert result.skip.code == code and result.skip.message


@pytest.mark.parametrize("hours,sent", [(0.99, False), (1.01, True), (24 * 7 - 0.01, True), (24 * 7 + 0.01, False)])
def test_wait_and_window_boundaries(engine, hours, sent):
    assert outcome(engine, hours_ago=hours).sent is sent


def test_cooldown_boundary_and_other_triggers_do_not_count(engine):
    just_outside = make_profile(id="t1", last_sent={"cart_abandoned": iso(3.01)}).model_dump(mode="json")
    assert outcome(engine, just_outside).sent
    other_trigger = make_profile(id="t1", last_sent={"browse_abandoned": iso(0.5)}).model_dump(mode="json")
    assert outcome(engine, other_trigger).sent


def test_custom_rules(engine):
    rules = {"cart_abandoned": TriggerRule(wait=timedelta(minutes=10), window=timedelta(hours=2))}
    result = engine.render_event(profile=make_profile().model_dump(mode="json"), event=event(hours_ago=0.5),
                                 now=FIXTURE_NOW, rules=rules)
    assert result.sent
    with pytest.raises(ValueError, match="wait shorter than window"):
        TriggerRule(wait=timedelta(days=8))


EXPECTED = {  # event fixture -> outcome for every fixture profile (see docs/triggers.md)
    "cart_abandoned": {"*": "send"},
    "browse_abandoned": {"*": "send"},
    "engaged_no_purchase": {"*": "send", "frequent_high_spender": "recent_buyer"},
    "cart_abandoned_stale": {"*": "event_too_old"},
    "cart_abandoned_empty": {"*": "empty_cart"},
    "browse_abandoned_just_now": {"*": "event_too_recent"},
    # All viewed products are sold out: ViewedProducts is empty, which browse_abandonment requires.
    "browse_abandoned_sold_out": {"*": "required_token_empty"},
}


@pytest.mark.parametrize("event_file", sorted(EXPECTED))
def test_every_event_fixture_renders_or_skips_as_documented(engine, fixtures, event_file):
    happened = read_json(EVENTS / f"{event_file}.json")
    for name in fixtures.profile_names():
        result = engine.render_event(profile=fixtures.profile(name), event=happened, now=FIXTURE_NOW)
        expected = EXPECTED[event_file].get(name, EXPECTED[event_file]["*"])
        assert (("send" if result.sent else result.skip.code) == expected), (event_file, name)
        if result.sent:
            assert result.email.template == result.template and "{{" not in result.email.html
    assert sorted(p.stem for p in EVENTS.glob("*.json")) == sorted(EXPECTED)


def test_bad_input_and_unknown_event_types(engine, content_copy):
    with pytest.raises(InvalidInput) as caught:
        engine.render_event(profile={"id": "x"}, event={"type": "party"}, now=FIXTURE_NOW)
    assert {p.loc for p in caught.value.problems} >= {"profile.email", "event.type", "event.occurred_at"}
    (content_copy / "templates" / "engaged_incentive.yaml").unlink()
    from renderer import Engine
    bare = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    with pytest.raises(TemplateNotFound, match="engaged_no_purchase"):
        bare.render_event(profile=make_profile().model_dump(mode="json"), event=event(kind="engaged_no_purchase"),
                          now=FIXTURE_NOW)


def test_cli_trigger_prints_send_or_skip(tmp_path, capsys):
    profile = str(PROJECT_ROOT / "fixtures/profiles/new_customer.json")
    out = tmp_path / "cart.html"
    assert main(["trigger", str(EVENTS / "cart_abandoned.json"), "--profile", profile,
                 "--now", "2026-11-15T12:00:00Z", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("send cart_abandoned -> abandoned_cart: 'Priya, your cart is waiting'")
    assert out.read_text().startswith("<!doctype html>") and out.with_suffix(".txt").exists()
    assert main(["trigger", str(EVENTS / "cart_abandoned_stale.json"), "--profile", profile,
                 "--now", "2026-11-15T12:00:00Z"]) == 0
    assert capsys.readouterr().out.startswith("skip cart_abandoned -> abandoned_cart: event_too_old: the event is")
