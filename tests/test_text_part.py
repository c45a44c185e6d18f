"""The plain-text part carries what the HTML offers: every product, price and link."""

from __future__ import annotations

import lxml.html
import pytest

from renderer.compile.text_wrap import WIDTH
from renderer.sandbox.text_width import display_width

from conftest import PAIRS, fixture_request

_LISTS = ("RecommendedProducts", "CartItems", "ViewedProducts")


@pytest.fixture(scope="module")
def rendered(engine):
    out = {}
    for template, profile in PAIRS:
        request = fixture_request(engine, template, profile)
        _, prepared = engine.prepare(template, **request)
        out[(template, profile)] = (engine.render(template, **request), prepared.context)
    return out


def _visible_links(html: str) -> list[str]:
    document = lxml.html.document_fromstring(html)
    # Image-only links (a logo, a product photo) have no words to show; the
    # product's name or button carries the same URL.
    return [a.get("href") for a in document.xpath('//body//a[not(ancestor::*[contains(@class, "text-skip")])]')
            if a.text_content().strip()]


@pytest.mark.parametrize("template,profile", PAIRS)
def test_every_product_name_price_and_link_of_the_html_is_in_the_text(rendered, template, profile):
    email, context = rendered[(template, profile)]
    document = lxml.html.document_fromstring(email.html)
    shown = document.xpath('//td[contains(@class, "product-name")]//a/text()')
    html_text = document.find("body").text_content()
    checked = 0
    for name in (n.strip() for n in shown):
        products = [p for key in _LISTS for p in context[key] if p["name"] == name and p["price"] in html_text]
        assert products, f"{name!r} is in the HTML but in no product list"
        product = products[0]
        assert name in email.text
        assert product["price"] in email.text
        for also in ("original_price", "line_total"):
            if product.get(also) and product[also] in html_text:
                assert product[also] in email.text, also
        checked += 1
    for href in _visible_links(email.html):
        # A mailto link shows its address, as the label does in the HTML.
        assert href.removeprefix("mailto:") in email.text, f"link {href} is missing from the text"
    assert checked == len(shown)


@pytest.mark.parametrize("template,profile", PAIRS)
def test_text_is_clean_and_wrapped(rendered, template, profile):
    email, _ = rendered[(template, profile)]
    # (A no-break space may stay: Babel puts one between an amount and its currency.)
    for junk in ("<", "mso", "{", "%}", "jjph", "  "):
        assert junk not in email.text, junk
    assert "\n\n\n" not in email.text
    for line in email.text.splitlines():
        # Only a line holding an unbreakable URL (or one long word) may run past the width.
        if display_width(line) > WIDTH:
            assert " " not in line.split("http")[0].strip() or "http" in line, line


def test_a_product_list_reads_as_items(rendered):
    email, _ = rendered[("abandoned_cart", "new_customer")]
    assert ("Pairs well with\n---------------\n\nLinen Waffle Bath Towel\n$38.00\n"
            "Add to cart: https://fernhill.example/p/linen-waffle-bath-towel") in email.text
    assert "Unsubscribe: https://fernhill.example/email/unsubscribe?c=cust_new_0001\n" in email.text
