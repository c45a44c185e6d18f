"""The layout rules of docs/design.md, measured on the bundled emails in Chromium.

One primary button per email, a call to action in browse abandonment,
product grids two to a row on phones with an odd last product filling its
row, thumbnails on the text column, the last-purchase band inside the white
card, room under the footer's help line, and phone emails under the height
budget.
"""

from __future__ import annotations

import io

import lxml.html
import pytest

from conftest import PAIRS, PROFILES, TEMPLATES, fixture_request
from node_support import serve_assets

PHONE, DESKTOP = 375, 600
PHONE_HEIGHT_BUDGET = 2400
"""CSS pixels: the tallest a bundled email may be at 375 px wide."""


@pytest.fixture(scope="module")
def page(browser, engine):
    page = browser.new_page(viewport={"width": DESKTOP, "height": 900})
    serve_assets(page, engine.brand()["assets_url"])
    yield page
    page.close()


def open_email(page, engine, template: str, profile: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(engine.render(template, **fixture_request(engine, template, profile)).html, wait_until="load")


def box(page, selector: str) -> dict:
    found = page.evaluate("s => { const e = document.querySelector(s); if (!e) return null;"
                          " const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; }",
                          selector)
    assert found is not None, f"nothing matches {selector}"
    return found


def buttons(html: str) -> list[tuple[str, str]]:
    """(background colour, label) of every MJML button (a cell with a bgcolor around one link)."""
    body = lxml.html.fromstring(html.split("<body", 1)[1].join(["<html><body", ""]))
    return [(cell.get("bgcolor").upper(), cell.text_content().strip())
            for cell in body.xpath("//td[@bgcolor][count(a)=1]")]


@pytest.mark.parametrize("template,profile", PAIRS)
def test_an_email_has_at_most_one_primary_button(engine, template, profile):
    accent = engine.brand()["colors"]["accent"].upper()
    html = engine.render(template, **fixture_request(engine, template, profile)).html
    primary = [label for colour, label in buttons(html) if colour == accent]
    assert len(primary) <= 1, f"{template} for {profile} has {len(primary)} primary buttons: {primary}"


@pytest.mark.parametrize("profile", PROFILES)
def test_browse_abandonment_has_a_call_to_action(engine, profile):
    html = engine.render("browse_abandonment", **fixture_request(engine, "browse_abandonment", profile)).html
    assert buttons(html), f"browse_abandonment for {profile} has no button"


@pytest.mark.parametrize("template", TEMPLATES)
def test_phone_emails_stay_under_the_height_budget(page, engine, template):
    heights = {}
    for profile in PROFILES:
        open_email(page, engine, template, profile, PHONE)
        heights[profile] = page.evaluate("document.documentElement.scrollHeight")
    too_tall = {p: h for p, h in heights.items() if h >= PHONE_HEIGHT_BUDGET}
    assert not too_tall, f"{template} at {PHONE} px is {PHONE_HEIGHT_BUDGET} px or taller for {too_tall}"


def product_images(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('img[src*="/products/"]')].map(i => {
        const r = i.getBoundingClientRect(); return {x: Math.round(r.x), y: Math.round(r.y), w: r.width}; })""")


def test_the_product_grid_stays_two_to_a_row_on_phones(page, engine):
    open_email(page, engine, "welcome", "new_customer", PHONE)
    images = product_images(page)
    assert len(images) == 4
    assert len({i["y"] for i in images}) == 2, f"expected two rows of two: {images}"


def test_an_odd_last_product_fills_its_row(page, engine):
    # The lapsed customer gets three new products in win_back: a full row, then one.
    open_email(page, engine, "win_back", "lapsed", DESKTOP)
    *_, last = product_images(page)
    name = page.evaluate("""() => { const links = [...document.querySelectorAll('.product-name a')];
        const r = links[links.length - 1].getBoundingClientRect(); return {x: r.x, y: r.y, h: r.height}; }""")
    assert name["x"] > last["x"] + last["w"], "the last product's name is under its image, not beside it"


@pytest.mark.parametrize("template,heading", [("abandoned_cart", "Still in your cart"),
                                              ("browse_abandonment", "Still on your mind?")])
def test_thumbnails_line_up_with_the_text_column(page, engine, template, heading):
    open_email(page, engine, template, "new_customer", DESKTOP)
    text = page.evaluate("h => { const e = [...document.querySelectorAll('h2')].find(e => e.textContent === h);"
                         " return e.getBoundingClientRect().x; }", heading)
    lefts = {i["x"] for i in product_images(page)[:1]}
    assert lefts == {round(text)}, f"thumbnail at x={lefts}, text column at x={text}"


def test_the_last_purchase_band_sits_inside_the_white_card(page, engine):
    from PIL import Image

    open_email(page, engine, "recommendations", "lapsed", DESKTOP)
    card = box(page, "div[role=article] > div")          # the header: the card's width
    band = box(page, ".dm-seam")
    middle = band["y"] + band["h"] / 2
    shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    edge = shot.getpixel((int(card["x"]) + 8, int(middle)))
    inside = shot.getpixel((int(card["x"]) + 48, int(middle)))
    assert edge == (255, 255, 255), f"the card's edge beside the band is {edge}, not white"
    assert inside == (0xF3, 0xED, 0xE2), f"the band is {inside}, not sand"


def test_the_help_line_has_room_under_it_and_no_lone_last_word(page, engine):
    open_email(page, engine, "welcome", "new_customer", DESKTOP)
    lines = page.evaluate("""() => {
        const text = document.querySelector('a[href^="mailto:"]').closest('div');
        const range = document.createRange(); range.selectNodeContents(text);
        const rows = {};
        for (const r of range.getClientRects()) {
            const y = Math.round(r.bottom); rows[y] = (rows[y] || 0) + r.width; }
        return {bottom: text.getBoundingClientRect().bottom, widths: Object.values(rows)}; }""")
    footer = page.evaluate("() => [...document.querySelectorAll('.dm-page')].pop().getBoundingClientRect().y")
    assert footer - lines["bottom"] >= 24, f"{footer - lines['bottom']} px between the help line and the card's end"
    *_, last = lines["widths"]
    assert last >= 0.3 * max(lines["widths"]), f"the last line is {last:.0f} px of {max(lines['widths']):.0f}"
