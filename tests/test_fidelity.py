"""Our emails against the reference compiler: the same layout as the JavaScript MJML gives.

For every template x fixture, the MJML the reference path compiles for that
recipient (after its Jinja pass) is compiled again with mjml 5 (npm,
``tests/node/mjml.js``). Both emails, ours as sent (MRML + premailer) and
mjml's, are opened in Chromium at 600 and 375 CSS pixels, and the boxes of
every image, column and button are compared: width, height and position
within their container (an image's or button's column, a column's section),
so a difference shows where it starts instead of moving everything below it.
More than ``TOLERANCE`` pixels apart is a difference, unless ``ACCEPTED``
names it with its reason.
"""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import dataclass

import pytest

from renderer import Engine

from conftest import PAIRS, PROFILES, fixture_request
from node_support import NODE_DIR, node_executable, node_package_file, serve_assets

TOLERANCE = 2
WIDTHS = (600, 375)


@dataclass(frozen=True)
class Accepted:
    """A known difference: elements in columns with these classes, at this viewport width,
    whose first image is ``ours_image_width`` pixels wide in our email."""

    name: str
    reason: str
    viewport: int
    column: frozenset[str]
    ours_image_width: int


ACCEPTED: tuple[Accepted, ...] = ()
"""None today; an entry names a difference, its reason, and where it shows."""

GEOMETRY = """() => {
  const COLUMN = "[class*='mj-column-per-'], [class*='mj-column-px-']";
  const classes = el => el ? [...el.classList].filter(c => c !== "mj-outlook-group-fix").sort() : [];
  const box = (kind, el, origin, column) => {
    const r = el.getBoundingClientRect();
    let o = origin ? origin.getBoundingClientRect() : {left: 0, top: 0};
    // A column stacked under its neighbour (phones) is placed from that neighbour's bottom edge.
    const above = kind === "column" ? el.previousElementSibling : null;
    if (above && above.matches(COLUMN) && r.top >= above.getBoundingClientRect().bottom - 1) {
      o = {left: o.left, top: above.getBoundingClientRect().bottom};
    }
    const image = column ? column.querySelector("img") : null;
    return {kind, label: el.getAttribute("alt") || el.textContent.trim().slice(0, 40),
            column: classes(column), imageWidth: image ? Math.round(image.getBoundingClientRect().width) : null,
            x: Math.round(r.left - o.left), y: Math.round(r.top - o.top),
            w: Math.round(r.width), h: Math.round(r.height)};
  };
  return [
    ...[...document.querySelectorAll("img")].map(e => box("image", e, e.closest(COLUMN), e.closest(COLUMN))),
    ...[...document.querySelectorAll(COLUMN)].map(e => box("column", e, e.parentElement.closest("td"), e)),
    ...[...document.querySelectorAll("td[bgcolor][valign='middle'] > a")].map(
        e => box("button", e, e.closest(COLUMN), e.closest(COLUMN))),
  ];
}"""


@functools.cache
def reference_emails(engine: Engine, template: str) -> dict[str, str]:
    """mjml 5's HTML of ``template`` for every fixture profile: one node run per template."""
    sources = [engine.reference_mjml(template, **fixture_request(engine, template, p)) for p in PROFILES]
    run = subprocess.run([node_executable(), str(NODE_DIR / "mjml.js")], input=json.dumps(sources),
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, f"mjml 5 failed on {template}: {run.stderr}"
    results = json.loads(run.stdout)
    problems = [f"{p}: {e}" for p, r in zip(PROFILES, results) for e in r["errors"]]
    assert not problems, f"mjml 5 rejects {template}'s MJML:\n" + "\n".join(problems)
    return {p: r["html"] for p, r in zip(PROFILES, results)}


@pytest.fixture(scope="module")
def page(browser, engine):
    node_package_file("mjml", "package.json")
    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 900})
    serve_assets(page, engine.brand()["assets_url"])
    yield page
    page.close()


def geometry(page, html: str, width: int) -> list[dict]:
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(html, wait_until="load")
    return page.evaluate(GEOMETRY)


def differences(ours: list[dict], reference: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs of boxes (ours, the reference's) more than TOLERANCE apart, element by element per kind."""
    found = []
    for kind in ("image", "column", "button"):
        mine = [b for b in ours if b["kind"] == kind]
        theirs = [b for b in reference if b["kind"] == kind]
        if len(mine) != len(theirs):
            found.append(({"kind": kind, "count": len(mine)}, {"kind": kind, "count": len(theirs)}))
            continue
        found.extend((a, b) for a, b in zip(mine, theirs)
                     if max(abs(a[k] - b[k]) for k in ("x", "y", "w", "h")) > TOLERANCE)
    return found


def accepted_by(box: dict, width: int) -> Accepted | None:
    for known in ACCEPTED:
        if (width == known.viewport and known.column <= set(box.get("column", ()))
                and box.get("imageWidth") == known.ours_image_width):
            return known
    return None


def compare(page, engine, template: str, profile: str) -> tuple[list[str], set[str]]:
    """The unexplained differences (described) and the names of the accepted ones that were seen."""
    ours_html = engine.render(template, **fixture_request(engine, template, profile)).html
    reference_html = reference_emails(engine, template)[profile]
    unexplained, seen = [], set()
    for width in WIDTHS:
        for ours, theirs in differences(geometry(page, ours_html, width), geometry(page, reference_html, width)):
            known = accepted_by(ours, width)
            if known is not None:
                seen.add(known.name)
            else:
                unexplained.append(f"{width}px {ours['kind']} {ours.get('label', '')!r}: ours {ours}, mjml 5 {theirs}")
    return unexplained, seen


@pytest.mark.parametrize("template,profile", PAIRS)
def test_layout_matches_the_reference_compiler(page, engine, template, profile):
    unexplained, _ = compare(page, engine, template, profile)
    assert not unexplained, f"{len(unexplained)} unexplained differences:\n" + "\n".join(unexplained)


def test_a_layout_difference_is_found(page, engine):
    """The comparison sees a change of a few pixels: a button 10 px wider than the reference's."""
    reference = reference_emails(engine, "welcome")["new_customer"]
    widened = reference.replace(" padding: 14px 30px;", " padding: 14px 35px;", 1)
    assert widened != reference
    found = differences(geometry(page, widened, 600), geometry(page, reference, 600))
    assert [(a["kind"], a["w"] - b["w"]) for a, b in found] == [("button", 10)]
