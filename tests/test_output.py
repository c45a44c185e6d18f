"""Every template x fixture profile: the finished email is complete and clean."""

from __future__ import annotations

import re

import lxml.html
import pytest
from markupsafe import escape

from conftest import PAIRS, fixture_request


@pytest.fixture(scope="module")
def emails(engine):
    return {(t, p): engine.render(t, **fixture_request(engine, t, p)) for t, p in PAIRS}


def without_dark_mode_rules(html: str) -> str:
    """The HTML without its dark-mode rules (a media query, and [data-ogsc] copies), which must stay in <head>."""
    while (start := html.find("@media (prefers-color-scheme: dark)")) != -1:
        depth, index = 0, html.index("{", start)
        for index in range(index, len(html)):
            depth += {"{": 1, "}": -1}.get(html[index], 0)
            if depth == 0:
                break
        html = html[:start] + html[index + 1:]
    return re.sub(r"\[data-og[sb]c\][^{}]*\{[^{}]*\}", "", html)


@pytest.mark.parametrize("template,profile", PAIRS)
def test_email_is_complete(emails, fixtures, template, profile):
    email = emails[(template, profile)]
    html = email.html
    assert html.lower().startswith("<!doctype html>")
    document = lxml.html.document_fromstring(html)
    assert document.tag == "html" and document.find("body") is not None
    for leftover in ("{{", "{%", "<mj-", "jjph"):
        assert leftover not in html, leftover
        assert leftover not in email.text, leftover
    # Inlined: elements carry their styles; class-only rules are gone from <head>.
    assert len(document.xpath("//body//*[@style]")) > 50
    light = without_dark_mode_rules(html)
    assert ".product-name a" not in light and ".sale {" not in light
    first_name = fixtures.profile(profile).get("first_name")
    if first_name:
        assert first_name in email.subject
    else:  # no stand-in name, no dangling comma: "Your cart is waiting"
        assert not re.search(r"\b(there|Friend)\b|^,|, ?$|,\s*[?.]", email.subject), email.subject
    unsubscribe = document.xpath('//a[starts-with(@href, "https://fernhill.example/email/unsubscribe?c=")]')
    assert unsubscribe and unsubscribe[0].text_content().strip()
    assert f"{unsubscribe[0].text_content().strip()}: {unsubscribe[0].get('href')}\n" in email.text
    assert email.blocks[0] == "header" and email.blocks[-1] == "footer"
    assert len(html.encode()) < 90 * 1024, "keep under Gmail's clipping limit"


@pytest.mark.parametrize("template,profile", PAIRS)
def test_lang_and_preheader_are_set(emails, fixtures, template, profile):
    email = emails[(template, profile)]
    locale = fixtures.profile(profile).get("locale", "en-US")
    assert re.search(rf'<html[^>]* lang="{locale}"', email.html)
    assert email.preheader and str(escape(email.preheader)) in email.html


def test_cart_email_lists_every_cart_item(emails, fixtures):
    email = emails[("abandoned_cart", "new_customer")]
    for item in fixtures.event("cart_abandoned")["cart"]["items"]:
        name = item["product"]["name"]
        assert lxml.html.fromstring(email.html).xpath(f'//a[bdi/text()="{name}"]'), name
        assert name in email.text
    assert "$412.00" in email.html and "$412.00" in email.text


@pytest.mark.parametrize("template,profile", PAIRS[:: max(1, len(PAIRS) // 6)])
def test_dark_mode_is_declared_and_styled(emails, template, profile):
    html = emails[(template, profile)].html
    head = html.split("<body", 1)[0]
    assert '<meta name="color-scheme" content="light dark"' in head
    assert '<meta name="supported-color-schemes" content="light dark"' in head
    assert "@media (prefers-color-scheme: dark)" in head and "#161A17 !important" in head

