from __future__ import annotations

import pytest

from renderer import InvalidInput
from renderer.base.models import Event, Profile, parse, parse_products
from renderer.content.fixtures import FIXTURE_NOW
from renderer.recipient.pipeline import build_context, header_text

from conftest import fixture_request

BRAND = {"unsubscribe_url": "https://shop.example/u?c={id}", "preferences_url": "https://shop.example/p?c={id}"}


def context_for(profile: dict, products=(), event=None, defaults=None, segments=()):
    return build_context(
        parse(Profile, profile, what="profile"), parse_products(list(products)),
        parse(Event, event, what="event") if event else None,
        now=FIXTURE_NOW, segments=list(segments), defaults=defaults or {"FirstName": "there"}, brand=BRAND,
    )


def test_tokens_from_a_full_profile(fixtures):
    context = context_for(fixtures.profile("frequent_high_spender"))
    assert context["FirstName"] == "Elena"
    assert context["CustomerCity"] == "Portland"
    assert context["CustomerCountry"] == "United States"
    assert context["LastPurchaseProduct"]["name"]
    assert context["LastPurchaseDate"] == "Nov 2, 2026"
    assert context["UnsubscribeUrl"] == "https://shop.example/u?c=cust_fhs_0001"
    assert context["Year"] == 2026 and context["Dir"] == "ltr"


def test_missing_data_gets_defaults_not_blanks(fixtures):
    context = context_for(fixtures.profile("minimal"), defaults={"FirstName": "there", "CustomerCity": "your city"})
    assert context["FirstName"] == "there"
    assert context["CustomerCity"] == "your city"
    assert context["LastPurchaseProduct"] is None and context["CartItems"] == []
    assert context["RecommendedProducts"] == [] and context["PrimarySegment"] is None


def test_recommendations_skip_out_of_stock_duplicates_and_cart_items(fixtures):
    catalog = fixtures.root.joinpath("catalog.json")
    import json
    products = json.loads(catalog.read_text())
    out_of_stock = next(p for p in products if not p["in_stock"])
    cart = fixtures.event("cart_abandoned")
    in_cart = cart["cart"]["items"][0]["product"]
    context = context_for(fixtures.profile("new_customer"), products + products[:2], event=cart)
    ids = [p["id"] for p in context["RecommendedProducts"]]
    assert out_of_stock["id"] not in ids
    assert in_cart["id"] not in ids
    assert len(ids) == len(set(ids))


def test_cart_lines_and_total_are_formatted(fixtures):
    context = context_for(fixtures.profile("new_customer"), event=fixtures.event("cart_abandoned"))
    lamps = next(item for item in context["CartItems"] if item["quantity"] == 2)
    assert lamps["price"] == "$145.00" and lamps["line_total"] == "$290.00"
    assert context["CartTotal"] == "$412.00"
    assert context["CartUrl"].startswith("https://")


def test_money_follows_the_recipients_locale(fixtures):
    context = context_for(fixtures.profile("international"), fixtures.recommendations("international"))
    assert context["RecommendedProducts"][0]["price"].startswith("￥")
    assert context["CustomerCountry"] == "日本"
    sale = context_for({"id": "c", "email": "a@example.com"},
                       [{"id": "s", "name": "S", "url": "https://x", "price": 8, "original_price": 10}])
    assert sale["RecommendedProducts"][0]["on_sale"] is True
    assert sale["RecommendedProducts"][0]["original_price"] == "$10.00"


def test_unsubscribe_url_encodes_the_id():
    context = context_for({"id": "a/b&c d", "email": "a@example.com"})
    assert context["UnsubscribeUrl"] == "https://shop.example/u?c=a%2Fb%26c%20d"


def test_rtl_locale_sets_direction():
    assert context_for({"id": "c", "email": "a@example.com", "locale": "ar-EG"})["Dir"] == "rtl"


def test_header_text_removes_line_breaks_and_controls():
    assert header_text("Hi\r\nBcc: x@y\u2028z\x00") == "Hi Bcc: x@y z"


def test_render_reports_every_bad_input_together(engine):
    with pytest.raises(InvalidInput) as caught:
        engine.render("welcome", profile={"email": "nope"}, recommendations=[{"id": "p"}],
                      event={"type": "party", "occurred_at": "x"})
    locs = {p.loc for p in caught.value.problems}
    assert {"profile.id", "profile.email", "recommendations.0.name", "event.type"} <= locs


def test_a_cart_and_recommendations_in_different_currencies_are_a_warning(engine, fixtures):
    email = engine.render("abandoned_cart", profile=fixtures.profile("locale_ar"),
                          recommendations=fixtures.recommendations("locale_ar"),
                          event=fixtures.event("cart_abandoned"), now=FIXTURE_NOW)
    mixed = [w for w in email.warnings if w.startswith("mixed currencies:")]
    assert len(mixed) == 1 and "USD (cart)" in mixed[0] and "EGP (recommendations)" in mixed[0]


def test_the_locale_fixtures_carts_are_in_the_recipients_currency(engine, fixtures):
    for profile in ("locale_ar", "locale_he", "locale_de", "international"):
        email = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", profile))
        assert not [w for w in email.warnings if w.startswith("mixed currencies:")], profile
        currency = fixtures.recommendations(profile)[0]["currency"]
        assert fixtures.event("cart_abandoned", profile)["cart"]["currency"] == currency
