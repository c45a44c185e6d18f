"""The fast path (compiled once) and the reference path (per recipient) agree.

The reference path runs Jinja on the MJML source, then MJML and the inliner,
for each recipient. Bodies are compared as parsed DOM trees, serialized the
same way: MJML and the inliner re-encode entities (``&#39;`` becomes ``'``),
which changes bytes but not the document.
"""

from __future__ import annotations

import lxml.html
import pytest

from conftest import PAIRS, fixture_request


def canonical_body(html: str) -> str:
    body = lxml.html.document_fromstring(html).find("body")
    return lxml.html.tostring(body, encoding="unicode")


@pytest.mark.parametrize("template,profile", PAIRS)
def test_fast_and_reference_bodies_are_identical(engine, template, profile):
    request = fixture_request(engine, template, profile)
    fast = engine.render(template, **request).html
    reference = engine.render_reference(template, **request)
    assert canonical_body(fast) == canonical_body(reference)


def test_equivalence_covers_hostile_and_unusual_data(engine, fixtures):
    profile = dict(fixtures.profile("occasional_browser"), first_name="<O'Brien & \"Sons\"> {{x}}")
    request = {"profile": profile, "recommendations": fixtures.recommendations("default"),
               "event": fixtures.event("cart_abandoned")}
    for template in ("abandoned_cart", "welcome"):
        fast = engine.render(template, **request).html
        assert canonical_body(fast) == canonical_body(engine.render_reference(template, **request))


def test_combining_marks_survive_mjml_in_attributes():
    from renderer.compile.mjml import compile_mjml

    html = compile_mjml('<mjml><mj-head><mj-title>أهلًا</mj-title></mj-head><mj-body><mj-section><mj-column>'
                        '<mj-text><span data-text="بدلًا">x</span></mj-text></mj-column></mj-section></mj-body></mjml>')
    assert "\\u{" not in html and 'data-text="بدلًا"' in html and 'aria-label="أهلًا"' in html
