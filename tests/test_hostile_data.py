"""Hostile profile data and product feeds: nothing becomes template, markup, a link or a header.

Every case renders real templates end to end and inspects the finished
subject, HTML (parsed with lxml) and text.
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import Parser

import lxml.html
import pytest
from markupsafe import escape

from renderer import Engine, InvalidInput
from renderer.base.limits import Limits
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PROJECT_ROOT

SITE = "https://fernhill.example"
PROFILE = {"id": "c1", "email": "ana@example.com", "first_name": "Ana", "location": {"city": "Lyon"}}


def product(index: int, **fields) -> dict:
    return {"id": f"P{index}", "name": f"Product {index}", "url": f"https://shop.example/p/{index}",
            "image_url": f"https://cdn.shop.example/{index}.png", "price": 10 + index % 40, **fields}


def cart_event(items: list[dict], url: str = "https://shop.example/cart") -> dict:
    return {"type": "cart_abandoned", "occurred_at": "2026-11-15T09:30:00Z",
            "cart": {"url": url, "items": [{"product": item, "quantity": 1} for item in items]}}


def body_of(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html).find("body")


# --- 2. data is never template ------------------------------------------------------------------

TEMPLATE_LOOKALIKES = ["{{7*7}}", "{% raw %}", "{% endraw %}{{ 7*7 }}", "{#", "#}", "</mj-raw>",
                       "<mj-text>x</mj-text>", "jjph00001z", "[[ brand.name ]]", "{{ Email }}"]


@pytest.mark.parametrize("value", TEMPLATE_LOOKALIKES)
def test_profile_and_product_values_print_literally(engine, value):
    email = engine.render(
        "abandoned_cart", profile=dict(PROFILE, first_name=value), now=FIXTURE_NOW,
        recommendations=[product(1, name=value)], event=cart_event([product(2, name=f"Lamp {value}")]))
    assert email.subject == f"{value}, your cart is waiting"
    assert str(escape(value)) in email.html and str(escape(f"Lamp {value}")) in email.html
    assert value in email.text and f"Lamp {value}" in email.text
    assert "49" not in email.subject and ">49<" not in email.html
    assert "ana@example.com" not in email.html.replace("mailto:ana@example.com", "")
    texts = body_of(email.html).xpath("//a/bdi/text() | //a/text()")
    assert f"Lamp {value}" in texts and value in texts


# --- 3. escaping by context -----------------------------------------------------------------------

MARKUP = ['"><script>alert(1)</script>', "' onmouseover='alert(1)", "<img src=x onerror=alert(1)>",
          "</title><svg onload=alert(1)>", "&lt;script&gt;"]


@pytest.mark.parametrize("value", MARKUP)
def test_markup_in_data_is_escaped_in_text_and_attributes(engine, value):
    email = engine.render("abandoned_cart", profile=dict(PROFILE, first_name=value), now=FIXTURE_NOW,
                          recommendations=[product(1, name=value)], event=cart_event([product(2)]))
    body = body_of(email.html)
    assert "<script" not in email.html.split("<body", 1)[1].lower()
    assert not body.xpath("//script | //svg | //img[@onerror] | //*[@onmouseover] | //*[@onload]")
    # The attribute kept the whole value, quotes and all: it was quoted and escaped.
    assert value in body.xpath("//img/@alt")
    assert value in body.xpath("//a/bdi/text() | //a/text()")
    assert lxml.html.document_fromstring(email.html).findtext(".//title") == email.subject


HOSTILE_URLS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java\nscript:alert(1)", "\x00javascript:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)",
    "javascript&colon;alert(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)", "//evil.example/x", "/relative/path", "relative/path", "?q=1", "#top",
    "https:evil.example", "https:/\\evil.example", "\u202ehttps://evil.example", "https://evil\u200b.example",
    'https://shop.example/"onmouseover="alert(1)', "file:///etc/passwd", "ftp://evil.example/x",
]
SAFE_SCHEMES = ("https://", "http://", "mailto:")


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_url_tokens_outside_the_allow_list_become_the_site_url(engine, url):
    profile = dict(PROFILE, orders=[{"id": "o1", "placed_at": "2026-10-01T00:00:00Z", "total": 20, "items": [
        {"product_id": "P9", "name": "Old mug", "price": 20, "url": url, "image_url": url}]}])
    recommendations = [product(1, url=url, image_url=url)]
    for template, event in (("abandoned_cart", cart_event([product(2, url=url, image_url=url)], url=url)),
                            ("browse_abandonment", {"type": "browse_abandoned", "occurred_at": "2026-11-15T09:30:00Z",
                                                    "products": [product(3, url=url, image_url=url)]}),
                            ("win_back", None)):
        email = engine.render(template, profile=profile, recommendations=recommendations, event=event,
                              now=FIXTURE_NOW)
        body = body_of(email.html)
        links = body.xpath("//a/@href") + body.xpath("//img/@src")
        assert links and all(link.startswith(SAFE_SCHEMES) for link in links), links
        assert url.strip() not in email.html and str(escape(url.strip())) not in email.html
        assert url.strip() not in email.text
        replaced = [w for w in email.warnings if f"replaced by {SITE}" in w]
        assert replaced, email.warnings
        # The fallback is the site URL (with UTM parameters when the brand tags its links).
        assert any(link == SITE or link.startswith(SITE + "?utm_") for link in links), links


@pytest.mark.parametrize("url", ["https://shop.example/p/1?utm_source=email&x=1#reviews", "http://shop.example/p",
                                 "mailto:help@shop.example?subject=Hi", "HTTPS://SHOP.EXAMPLE/P"])
def test_allowed_urls_pass_unchanged(engine, url):
    email = engine.render("welcome", profile=PROFILE, recommendations=[product(1, url=url)], now=FIXTURE_NOW)
    assert url in body_of(email.html).xpath("//a/@href")
    assert not email.warnings


# --- 4. subject and preheader -------------------------------------------------------------------

HEADER_BREAKERS = ["\r\nBcc: evil@example.com", "\rX-Injected: 1", "\nSubject: other", "\x00", "\x0b\x0c",
                   "\x1b[31m", "\x85", "\u2028Bcc: evil@example.com", "\u2029", "\u202eevil\u202c", "\u2066x\u2069"]


@pytest.mark.parametrize("breaker", HEADER_BREAKERS)
def test_subject_and_preheader_are_one_clean_line(engine, breaker):
    profile = dict(PROFILE, first_name=f"Ana{breaker}", location={"city": f"Lyon{breaker}"})
    email = engine.render("recommendations", profile=profile, now=FIXTURE_NOW)
    for line in (email.subject, email.preheader):
        assert line == " ".join(line.split()), "one line, single spaces"
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", line)
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = "shop@example.com"
    message.set_content(email.text)
    parsed = Parser(policy=policy.default).parsestr(message.as_string())
    assert parsed["Subject"] == email.subject
    assert sorted(parsed.keys()) == ["Content-Transfer-Encoding", "Content-Type", "From", "MIME-Version", "Subject"]


def test_subject_and_preheader_are_capped_with_an_ellipsis():
    engine = Engine(limits=Limits(name=1000))
    email = engine.render("recommendations", now=FIXTURE_NOW,
                          profile=dict(PROFILE, first_name="A" * 400, location={"city": "L" * 400}))
    assert len(email.subject) == 150 and email.subject.endswith("…")
    assert len(email.preheader) == 200 and email.preheader.endswith("…")
    assert "subject cut to 150 characters" in " ".join(email.warnings)
    assert "preheader cut to 200 characters" in " ".join(email.warnings)


# --- 6. oversized input ---------------------------------------------------------------------------

GMAIL_CLIP = 102 * 1024


def test_a_10000_character_first_name_is_cut_with_a_warning(engine):
    email = engine.render("welcome", profile=dict(PROFILE, first_name="Ana" + "x" * 9997), now=FIXTURE_NOW)
    shown = "Ana" + "x" * 96 + "…"
    assert email.subject == f"Welcome to Fernhill, {shown}"
    assert shown in email.html and "x" * 97 not in email.html and "x" * 97 not in email.text
    assert email.warnings == ["profile.first_name cut to 100 characters (10,000 characters)"]


def test_a_200_item_cart_lists_ten_and_counts_the_rest(engine):
    items = [product(i, name=f"Cart item {i:03d}") for i in range(200)]
    email = engine.render("abandoned_cart", profile=PROFILE, event=cart_event(items), now=FIXTURE_NOW)
    listed = [t for t in body_of(email.html).xpath("//a/bdi/text() | //a/text()") if t.startswith("Cart item")]
    assert listed == [f"Cart item {i:03d}" for i in range(10)]
    assert "and <bdi>190</bdi> more items" in email.html and "and 190 more items" in email.text
    total = sum(10 + i % 40 for i in range(200))
    assert f"${total:,}.00" in email.html, "the subtotal still counts every item"
    assert "CartItems capped at 10 items (200 in the cart; CartItemsMore = 190)" in email.warnings
    assert len(email.html.encode()) < GMAIL_CLIP


def test_the_cart_cap_is_configurable(fixtures):
    engine = Engine(limits=Limits(cart_items=1))
    email = engine.render("abandoned_cart", profile=PROFILE, event=cart_event([product(1), product(2)]),
                          now=FIXTURE_NOW)
    assert "and <bdi>1</bdi> more item<" in email.html and "Product 2<" not in email.html


def test_a_feed_of_thousands_of_products_is_capped(engine):
    feed = [product(i, name=f"Feed product {i}") for i in range(5000)]
    browsing = [{"product": p, "viewed_at": "2026-11-01T00:00:00Z"} for p in feed[:3000]]
    profile = dict(PROFILE, first_name="A" * 10_000, browsing=browsing)
    items = [product(10_000 + i, name="Long name " + "n" * 400) for i in range(200)]
    email = engine.render("abandoned_cart", profile=profile, recommendations=feed, event=cart_event(items),
                          now=FIXTURE_NOW)
    grid = [t for t in body_of(email.html).xpath("//a/bdi/text() | //a/text()") if t.startswith("Feed product")]
    assert grid == ["Feed product 0", "Feed product 1"]
    # 1,000 products are read (Limits.input_items) and 24 of them kept for the email (Limits.products).
    assert "recommendations: 5,000 products given, the first 1,000 read (Limits)" in email.warnings
    assert "RecommendedProducts capped at 24 products (1,000 given)" in email.warnings
    assert any(w.startswith("CartItems name cut to 200 characters ('P10000': 410 characters") for w in email.warnings)
    assert len(email.html.encode()) < GMAIL_CLIP
    browse = engine.render("browse_abandonment", profile=profile, recommendations=feed, now=FIXTURE_NOW)
    assert "browsing: 3,000 given, the newest 50 read (the last in the list) (Limits)" in browse.warnings
    assert "ViewedProducts capped at 24 products (50 given)" in browse.warnings
    assert len(browse.html.encode()) < GMAIL_CLIP


def test_limits_are_validated():
    with pytest.raises(InvalidInput) as caught:
        Limits(subject=0, cart_items=-1, products="24")  # type: ignore[arg-type]
    assert [p.loc for p in caught.value.problems] == ["subject", "cart_items", "products"]
    with pytest.raises(TypeError, match="limits"):
        Engine(limits={"subject": 10})  # type: ignore[arg-type]
    assert Engine(limits=Limits(cart_items=3)).config()["limits"].cart_items == 3


def test_warnings_only_concern_tokens_the_template_shows():
    email = Engine(templates_dir=PROJECT_ROOT / "templates").render(
        "welcome", profile=PROFILE, now=FIXTURE_NOW,
        event=cart_event([product(i) for i in range(30)], url="javascript:alert(1)"))
    assert email.warnings == []


def test_control_characters_are_removed_from_shown_text(engine):
    email = engine.render("welcome", profile=dict(PROFILE, first_name="A\x00n\x1ba\x7f\ufffe"), now=FIXTURE_NOW,
                          recommendations=[product(1, name="Mu\x08g\tcup")])
    assert email.subject == "Welcome to Fernhill, Ana"
    assert "Mug\tcup" in email.html and not re.search(r"[\x00-\x08\x1b\x7f\ufffe]", email.html + email.text)


def test_missing_urls_point_at_the_brand_never_at_none(engine):
    profile = dict(PROFILE, orders=[{"id": "o1", "placed_at": "2026-10-01T00:00:00Z", "total": 20,
                                     "items": [{"product_id": "P9", "name": "Old mug", "price": 20}]}])
    cart = cart_event([product(2, image_url=None)])
    del cart["cart"]["url"]
    for template in ("win_back", "abandoned_cart"):
        email = engine.render(template, profile=profile, recommendations=[product(1, image_url=None)], event=cart,
                              now=FIXTURE_NOW)
        body = body_of(email.html)
        assert "None" not in body.xpath("//@href | //@src")
        assert "https://cdn.fernhill.example/brand/logo.png" in body.xpath("//img/@src")
        assert not email.warnings, "missing data is not an error"
