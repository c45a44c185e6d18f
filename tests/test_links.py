"""UTM parameters on the brand's links: static ones at compile time, token ones per recipient."""

from __future__ import annotations

import pytest

from renderer import Engine, TemplateError
from renderer.compile.links import UtmConfig, tag_links, utm_config
from renderer.sandbox.urls import tag_url

DOMAINS = ("fernhill.example",)
QUERY = "utm_source=s&utm_medium=email&utm_campaign=c&utm_content=hero"


@pytest.mark.parametrize("url,expected", [
    ("https://fernhill.example/new", f"https://fernhill.example/new?{QUERY}"),
    ("https://fernhill.example/new?code=A1", f"https://fernhill.example/new?code=A1&{QUERY}"),
    ("https://fernhill.example/p/x?a=1#reviews", f"https://fernhill.example/p/x?a=1&{QUERY}#reviews"),
    ("https://shop.fernhill.example/x", f"https://shop.fernhill.example/x?{QUERY}"),
    ("https://FERNHILL.example/x#top", f"https://FERNHILL.example/x?{QUERY}#top"),
    ("https://fernhill.example/x?utm_source=partner", "https://fernhill.example/x?utm_source=partner"),
    ("https://notfernhill.example/x", "https://notfernhill.example/x"),
    ("https://other.example/x?a=1", "https://other.example/x?a=1"),
    ("mailto:hello@fernhill.example", "mailto:hello@fernhill.example"),
    ("#top", "#top"),
])
def test_tag_url_keeps_query_and_fragment_and_only_tags_the_domains(url, expected):
    assert tag_url(url, QUERY, DOMAINS) == expected


def test_static_links_are_tagged_once_and_token_links_get_the_filter():
    config = UtmConfig(DOMAINS, (("utm_source", "s"),))
    source = ('<mj-button href="https://fernhill.example/a?x=1&amp;y=2">Go</mj-button>'
              '<a href="{{ p.url }}">x</a><a href="{{ LastPurchaseProduct.url }}#reviews">r</a>'
              '<a href="{{ UnsubscribeUrl }}">u</a><a href="mailto:a@fernhill.example">m</a>')
    tagged = tag_links(source, config, "hero")
    assert 'href="https://fernhill.example/a?x=1&amp;y=2&amp;utm_source=s&amp;utm_content=hero"' in tagged
    assert "{{ ((p.url)) | utm('utm_source=s&utm_content=hero', ('fernhill.example',)) }}" in tagged
    assert "{{ ((LastPurchaseProduct.url) ~ '#reviews') | utm(" in tagged
    assert 'href="{{ UnsubscribeUrl }}"' in tagged and 'href="mailto:a@fernhill.example"' in tagged


def test_a_template_may_override_or_turn_off_the_brand_settings():
    brand = {"utm": {"domains": ["fernhill.example"], "source": "fernhill", "medium": "email",
                     "campaign": "{template}"}}
    config = utm_config(brand, {"campaign": "winter"}, template="welcome", filename="t.yaml")
    assert config.query("hero") == "utm_source=fernhill&utm_medium=email&utm_campaign=winter&utm_content=hero"
    assert utm_config(brand, False, template="welcome", filename="t.yaml") is None
    assert utm_config({}, None, template="welcome", filename="t.yaml") is None
    with pytest.raises(TemplateError, match="host names"):
        utm_config({"utm": {"domains": ["https://x.example/"]}}, None, template="w", filename="t.yaml")


def test_rendered_links_carry_utm_in_html_and_text_but_unsubscribe_does_not(engine, fixtures):
    from conftest import fixture_request

    email = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", "new_customer"))
    cart_link = ("https://fernhill.example/p/folding-camp-stool?utm_source=fernhill&utm_medium=email"
                 "&utm_campaign=abandoned_cart&utm_content=cart_items")
    assert cart_link.replace("&", "&amp;") in email.html and cart_link in email.text
    assert ("https://fernhill.example/cart?code=SHIPFREE&amp;utm_source=fernhill&amp;utm_medium=email"
            "&amp;utm_campaign=abandoned_cart&amp;utm_content=incentive") in email.html
    assert 'href="https://fernhill.example/email/unsubscribe?c=cust_new_0001"' in email.html
    assert "mailto:hello@fernhill.example" in email.html


def test_without_utm_settings_links_are_untouched(content_copy):
    brand = content_copy / "blocks" / "brand.yaml"
    text = brand.read_text()
    start = text.index("\nutm:\n") + 1
    end = text.index("colors:")
    brand.write_text(text[:start] + text[end:])
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    email = engine.render("welcome", profile={"id": "c1", "email": "a@example.com"})
    assert "utm_" not in email.html and "utm_" not in email.text
