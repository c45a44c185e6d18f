"""Property tests (hypothesis) of hostile and broken data, with a fixed seed and bounded examples.

For any generated input, a render either returns an email or raises
InvalidInput; an email never carries an unresolved ``{{``/``{%``/``<mj-``,
a ``<script``, or a link outside https/http/mailto; its HTML parses with the
same element structure as a benign render; and a batch gives one result per
request, whatever the requests hold.
"""

from __future__ import annotations

import json
import re
import string
from functools import lru_cache

import lxml.html
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from renderer import Engine, Failed, InvalidInput, RenderAborted, RenderedEmail, RenderRequest, Skipped, render_many
from renderer.batch.job import JobSpec, run_batch
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PROJECT_ROOT

BOUNDED = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SMALL = settings(BOUNDED, max_examples=40)

ENGINE = Engine(templates_dir=PROJECT_ROOT / "templates", blocks_dir=PROJECT_ROOT / "blocks", auto_reload=False)
TEMPLATES = ENGINE.template_names()
SAFE_SCHEMES = ("https://", "http://", "mailto:")
CART_EVENT = {"type": "cart_abandoned", "occurred_at": "2026-11-15T09:30:00Z"}


def request(template: str, first_name: str, name: str, url: str) -> dict:
    product = {"id": "P1", "name": name, "url": url, "image_url": url, "price": 12}
    return {
        "profile": {"id": "c1", "email": "ana@example.com", "first_name": first_name,
                    "orders": [{"id": "o", "placed_at": "2026-10-01T00:00:00Z", "total": 9,
                                "items": [{"product_id": "P0", "name": name, "price": 9, "url": url}]}]},
        "recommendations": [product, dict(product, id="P2")],
        "event": dict(CART_EVENT, cart={"url": url, "items": [{"product": dict(product, id="P3")}]},
                      products=[dict(product, id="P4")]),
        "now": FIXTURE_NOW,
    }


@lru_cache(maxsize=None)
def benign_shape(template: str) -> tuple[str, ...]:
    """The tags of the body's elements for harmless data: what any data must leave intact."""
    email = ENGINE.render(template, **request(template, "Ana", "Mug", "https://shop.example/p/1"))
    return tuple(element.tag for element in lxml.html.document_fromstring(email.html).find("body").iter())


def shown_values(template: str, data: dict) -> list[str]:
    """The recipient values as the engine put them into the template (cut, normalized, replaced)."""
    _, prepared = ENGINE.prepare(template, **data)
    context = prepared.context
    values = [context[token] for token in ("FirstName", "LastName", "FullName", "CustomerCity", "CustomerCountry",
                                           "CartUrl", "LastPurchaseDate")]
    for token in ("RecommendedProducts", "CartItems", "ViewedProducts"):
        values += [item[key] for item in context[token] for key in ("name", "url", "image_url", "category")]
    if context["LastPurchaseProduct"]:
        values += list(context["LastPurchaseProduct"].values())
    return sorted({str(value) for value in values if value}, key=len, reverse=True)


def without(text: str, values: list[str], *, escaped: bool) -> str:
    """``text`` with every occurrence of the data replaced by a sentinel that forms no tag."""
    for value in values:
        text = text.replace(str(escape(value)) if escaped else value, "\x01")
    return text


def check_email(template: str, data: dict, email: RenderedEmail) -> lxml.html.HtmlElement:
    """The properties every email has, whatever the data; returns the parsed body."""
    values = shown_values(template, data) + [email.subject, email.preheader]
    html_rest = without(email.html, values, escaped=True)
    text_rest = without(email.text, values, escaped=False)
    for leftover in ("{{", "{%", "{#", "<mj-", "jjph"):
        assert leftover not in html_rest and leftover not in text_rest, leftover
    assert "<script" not in email.html.lower()
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", email.html + email.text), "no control characters"
    body = lxml.html.document_fromstring(email.html).find("body")
    links = body.xpath("//@href | //@src")
    assert links and all(link.startswith(SAFE_SCHEMES) for link in links), links
    assert "\n" not in email.subject and "\r" not in email.subject and len(email.subject) <= 150
    return body


URL_PIECES = st.sampled_from(["https://shop.example/p/1", "http://x.example", "mailto:a@b.example",
                              "javascript:alert(1)", "JAVASCRIPT:x", "data:text/html,x", "vbscript:x", "//evil",
                              "/p", "java\tscript:x", "&#106;avascript:x", "https://", ""])
URLS = st.one_of(st.text(max_size=60), URL_PIECES, st.builds(str.__add__, URL_PIECES, st.text(max_size=30)))
TEXT = st.one_of(st.text(max_size=120), st.text(alphabet=string.printable + "{}%#<>/&\"'", max_size=60),
                 st.sampled_from(["{{7*7}}", "{% raw %}", "</mj-raw>", "jjph00001z", "<script>x</script>"]))


@BOUNDED
@given(template=st.sampled_from(TEMPLATES), first_name=TEXT, name=TEXT, url=URLS)
def test_any_text_and_url_renders_safely_or_is_refused(template, first_name, name, url):
    data = request(template, first_name, name, url)
    try:
        email = ENGINE.render(template, **data)
    except InvalidInput:
        event("refused")
        return  # e.g. an empty product name or URL: refused by field path, never half-rendered
    event("rendered")
    body = check_email(template, data, email)
    assert tuple(element.tag for element in body.iter()) == benign_shape(template)


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid values three times in four: enough renders get through to check the email."""
    return st.sampled_from([True, True, True, False]).flatmap(lambda ok: valid if ok else invalid)


MONEY = mostly(st.one_of(st.integers(0, 10**6), st.decimals(allow_nan=False, places=2, min_value=0, max_value=10**6)),
               st.one_of(st.integers(-5, 10**13), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8)))
PRODUCTS = st.lists(st.fixed_dictionaries(
    {"id": mostly(st.text(max_size=8), st.integers()), "name": TEXT, "url": URLS, "price": MONEY},
    optional={"image_url": URLS, "currency": mostly(st.sampled_from(["USD", "EUR", "JPY", "QQQ"]),
                                                    st.sampled_from(["usd", "", "EURO"])),
              "original_price": MONEY, "category": TEXT, "in_stock": st.booleans()}),
    max_size=6)
TIMESTAMPS = mostly(st.datetimes().map(lambda d: d.isoformat()), st.one_of(st.text(max_size=12), st.integers()))
PROFILES = st.fixed_dictionaries(
    {"id": mostly(st.text(min_size=1, max_size=12), st.one_of(st.integers(), st.none(), st.just(""))),
     "email": mostly(st.emails(), st.text(max_size=20))},
    optional={
        "first_name": mostly(TEXT, st.one_of(st.none(), st.integers())), "last_name": TEXT,
        "locale": mostly(st.sampled_from(["en-US", "de-DE", "ja-JP", "ar-EG", "he-IL", "zz-ZZ"]), st.text(max_size=8)),
        "location": st.fixed_dictionaries({}, optional={"city": TEXT, "country": mostly(
            st.sampled_from(["US", "DE", "JP", "XX", "us"]), st.text(max_size=3))}),
        "orders": st.lists(st.fixed_dictionaries(
            {"id": st.text(max_size=6), "placed_at": TIMESTAMPS, "total": MONEY},
            optional={"items": st.lists(st.fixed_dictionaries(
                {"product_id": st.text(max_size=6), "name": TEXT, "price": MONEY}, optional={"url": URLS}),
                max_size=3)}), max_size=3),
        "segments": st.lists(st.text(max_size=10), max_size=3),
        "attributes": st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=3),
        "consent": st.fixed_dictionaries({"email_marketing": mostly(st.booleans(), JSON_SCALARS)}),
    })


@BOUNDED
@given(template=st.sampled_from(TEMPLATES), profile=PROFILES, products=PRODUCTS,
       cart=st.one_of(st.none(), PRODUCTS))
def test_generated_profiles_and_payloads_render_or_raise_invalid_input(template, profile, products, cart):
    trigger = dict(CART_EVENT, cart={"items": [{"product": p} for p in cart]}) if cart is not None else None
    data = {"profile": profile, "recommendations": products, "event": trigger, "now": FIXTURE_NOW}
    try:
        email = ENGINE.render(template, **data)
    except InvalidInput as error:
        assert error.problems and all(p.loc and p.message for p in error.problems)
        event("refused")
        return
    except RenderAborted as error:
        if error.code == "required_token_empty":
            # The template's requires: no email without the data it is about.
            assert error.token in {need.token for need in ENGINE.compiled(template).spec.requires}
            assert error.token != "CartItems" or not cart  # every cart item is listed, in stock or not
            event("required token empty")
            return
        # The consent policy: no marketing email to a recipient who has not consented.
        assert error.code == "no_consent" and profile["consent"]["email_marketing"] is False
        event("no consent")
        return
    event("rendered")
    # ... and never an email without it: the block that shows a required list is there.
    for need, block in (("CartItems", "cart_items"), ("ViewedProducts", "browse_items")):
        if need in {r.token for r in ENGINE.compiled(template).spec.requires if r.on_missing != "hide_block"}:
            assert block in email.blocks, (template, email.blocks)
    check_email(template, data, email)


@SMALL
@given(requests=st.lists(st.one_of(
    st.builds(RenderRequest, st.sampled_from(TEMPLATES + ["nope"]), PROFILES, st.one_of(st.none(), PRODUCTS),
              now=st.just(FIXTURE_NOW)),
    st.dictionaries(st.sampled_from(["template", "profile", "colour", "now"]), JSON_SCALARS, max_size=3)),
    max_size=8))
def test_a_batch_gives_one_result_per_request_in_order(requests):
    results = list(render_many(requests, engine=ENGINE))
    assert len(results) == len(requests)
    for index, result in enumerate(results):
        assert isinstance(result, (RenderedEmail, Skipped, Failed))
        if not isinstance(result, RenderedEmail):
            assert result.index == index


@SMALL
@given(lines=st.lists(st.one_of(
    PROFILES.map(lambda profile: json.dumps(profile, ensure_ascii=True, default=str)),
    st.text(max_size=30).filter(lambda line: line.strip() and "\n" not in line and "\r" not in line),
    st.just('{"id": "x\\ud800", "email": "a@b.example", "first_name": "\\udfff"}')), min_size=1, max_size=6))
def test_a_batch_job_writes_one_valid_json_line_per_input_line(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("batch")
    profiles = folder / "in.jsonl"
    profiles.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="backslashreplace")
    expected = [n for n, line in enumerate(profiles.read_text(encoding="utf-8").split("\n"), start=1)
                if line.strip()]
    summary = run_batch(ENGINE, JobSpec("welcome", FIXTURE_NOW), profiles, folder / "out.jsonl")
    # JSON Lines end at "\n" only; str.splitlines() would also split at a U+2028 inside a record.
    output = (folder / "out.jsonl").read_text(encoding="utf-8").split("\n")
    assert output.pop() == ""
    records = [json.loads(line) for line in output]
    assert [record["line"] for record in records] == expected
    assert summary.total == len(expected)
