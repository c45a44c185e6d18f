"""Every template x fixture passes axe-core in Chromium, with one h1 and headings in order.

axe-core (npm, ``tests/node/``) is injected into the email as sent and run
over the whole document. No serious or critical violation is allowed
(contrast below WCAG AA is serious); the moderate ones axe reports for
every email (no ``main`` landmark, content outside landmarks) concern web
pages, not a message shown inside a mail client's own page.
"""

from __future__ import annotations

import itertools

import pytest

from conftest import PAIRS, fixture_request
from node_support import node_package_file, serve_assets

BLOCKING = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                                why: [...n.any, ...n.all, ...n.none].map(c => c.message).join("; ")}))}));
}"""

HEADINGS = "() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1]))"


@pytest.fixture(scope="module")
def page(browser, engine):
    page = browser.new_page(viewport={"width": 600, "height": 900})
    serve_assets(page, engine.brand()["assets_url"])
    yield page
    page.close()


def axe_violations(page, html: str) -> list[dict]:
    page.set_content(html, wait_until="load")
    page.add_script_tag(path=str(node_package_file("axe-core", "axe.min.js")))
    return page.evaluate(RUN_AXE)


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['impact']} {v['id']} ({v['help']}): {n['why']}\n    at {n['target']}: {n['html']}"
                     for v in violations for n in v["nodes"])


def heading_problems(levels: list[int]) -> list[str]:
    """What is wrong with an email's heading outline: one h1, first, and no level skipped."""
    problems = []
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 headings, not one")
    if levels and levels[0] != 1:
        problems.append(f"the first heading is h{levels[0]}, not h1")
    problems += [f"h{b} follows h{a}" for a, b in itertools.pairwise(levels) if b > a + 1]
    return problems


@pytest.mark.parametrize("template,profile", PAIRS)
def test_no_serious_accessibility_violations(page, engine, template, profile):
    email = engine.render(template, **fixture_request(engine, template, profile))
    blocking = [v for v in axe_violations(page, email.html) if v["impact"] in BLOCKING]
    assert not blocking, f"{sum(len(v['nodes']) for v in blocking)} nodes fail:\n{describe(blocking)}"
    levels = page.evaluate(HEADINGS)
    assert not heading_problems(levels), f"headings {levels}: {heading_problems(levels)}"


@pytest.fixture(scope="module")
def dark_page(browser, engine):
    page = browser.new_page(viewport={"width": 600, "height": 900}, color_scheme="dark")
    serve_assets(page, engine.brand()["assets_url"])
    yield page
    page.close()


@pytest.mark.parametrize("template", sorted({t for t, _ in PAIRS}))
def test_dark_mode_keeps_the_contrast(dark_page, engine, template):
    """In dark mode (prefers-color-scheme, as Apple Mail and iOS apply it) no text falls below AA either."""
    profile = "frequent_high_spender"
    email = engine.render(template, **fixture_request(engine, template, profile))
    blocking = [v for v in axe_violations(dark_page, email.html) if v["impact"] in BLOCKING]
    assert not blocking, f"{sum(len(v['nodes']) for v in blocking)} nodes fail in dark mode:\n{describe(blocking)}"


def test_axe_reports_low_contrast(page):
    """The check can fail: the old terracotta button (white on #C8623A, 3.98:1) is serious."""
    html = ('<!doctype html><html lang="en"><head><title>t</title></head><body><h1>Offer</h1>'
            '<a href="https://fernhill.example" style="background:#C8623A;color:#ffffff;font-size:16px;'
            'padding:14px 30px;display:inline-block">Use my code</a></body></html>')
    violations = axe_violations(page, html)
    assert [(v["id"], v["impact"]) for v in violations if v["impact"] in BLOCKING] == [("color-contrast", "serious")]


@pytest.mark.parametrize("levels,problem", [
    ([], "0 h1 headings, not one"),
    ([2, 1], "the first heading is h2, not h1"),
    ([1, 2, 1], "2 h1 headings, not one"),
    ([1, 3], "h3 follows h1"),
])
def test_heading_outline_problems_are_named(levels, problem):
    assert problem in heading_problems(levels)


def test_a_good_outline_has_no_problems():
    assert heading_problems([1, 2, 2, 3, 2]) == []
