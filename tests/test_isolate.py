"""Direction isolation (renderer/compile/isolate.py): prices and product names keep their own direction."""

from __future__ import annotations

import lxml.html
import pytest

from renderer.compile.isolate import isolate_tokens

from conftest import TEMPLATES, fixture_request

RTL_FIXTURES = ["locale_ar", "locale_he"]
_PRODUCT_LISTS = ("RecommendedProducts", "CartItems", "ViewedProducts")


def _money_and_names(context: dict) -> tuple[set[str], set[str]]:
    money, names = set(), set()
    for token in _PRODUCT_LISTS:
        for product in context.get(token) or []:
            money.update(v for v in (product.get("price"), product.get("original_price"), product.get("line_total")) if v)
            names.add(product["name"])
    if context.get("CartTotal"):
        money.add(context["CartTotal"])
    if context.get("LastPurchaseProduct"):
        names.add(context["LastPurchaseProduct"]["name"])
    return money, names


def _isolated(text) -> bool:
    """Whether a text node of the parsed body sits inside a <bdi>."""
    element = text.getparent()
    if text.is_tail:
        element = element.getparent()
    return any(e.tag == "bdi" for e in element.iterancestors()) or element.tag == "bdi"


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("profile", RTL_FIXTURES)
def test_every_price_and_product_name_of_a_right_to_left_email_is_isolated(engine, template, profile):
    request = fixture_request(engine, template, profile)
    compiled, prepared = engine.prepare(template, **request)
    email = engine.render(template, **request)
    money, names = _money_and_names(prepared.context)
    body = lxml.html.document_fromstring(email.html).find("body")
    seen: set[str] = set()
    for text in body.xpath(".//text()"):
        for value in money | names:
            if value in text:
                seen.add(value)
                assert _isolated(text), f"{value!r} is not inside a <bdi> in {text!r}"
    shown = {v for v in money | names if v in body.text_content()}
    assert seen == shown
    if template in ("abandoned_cart", "welcome"):
        assert money and seen, "the email shows prices"


@pytest.mark.parametrize("profile", RTL_FIXTURES)
def test_the_copyright_line_reads_left_to_right_as_one_unit(engine, profile):
    email = engine.render("welcome", **fixture_request(engine, "welcome", profile))
    body = lxml.html.document_fromstring(email.html).find("body")
    lines = [b for b in body.iter("bdi") if b.text_content().startswith("\u00a9")]
    assert [b.text_content() for b in lines] == ["\u00a9 2026 Fernhill"]


def test_the_text_part_isolates_prices_in_right_to_left_emails_only(engine):
    arabic = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", "locale_ar"))
    english = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", "frequent_high_spender"))
    # A price is a left-to-right isolate (LRI ... PDI): "US$" or "ج.م." stays whole beside its number.
    assert "\u2066\u200f2,400.00\u00a0ج.م.\u200f\u2069" in arabic.text
    assert "\u2068\u00a9 2026 Fernhill\u2069" in arabic.text
    assert not any(mark in english.text for mark in "\u2066\u2068\u2069")


def test_tokens_in_attributes_and_other_tokens_are_left_alone():
    source = ('<a href="{{ p.url }}" title="{{ p.name }}">{{ p.name }}</a> {{ FirstName }} {{ p.price }} '
              '{{ Attributes.credit | money }} <bdi>&copy; {{ Year }}</bdi>')
    assert isolate_tokens(source) == (
        '<a href="{{ p.url }}" title="{{ p.name }}"><bdi>{{ p.name }}</bdi></a> {{ FirstName }} '
        '<bdi dir="ltr">{{ p.price }}</bdi> <bdi dir="ltr">{{ Attributes.credit | money }}</bdi> '
        '<bdi>&copy; {{ Year }}</bdi>')
