"""Emails in a real headless Chromium: mobile and desktop widths.

Screenshots land in test-artifacts/emails/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.devtools.gallery import localize_assets

from conftest import PROFILES, PROJECT_ROOT, TEMPLATES, fixture_request

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "emails"


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("width", [375, 600])
def test_email_fits_the_screen_and_images_load(engine, browser, tmp_path: Path, template, width):
    from renderer.devtools.browser import screenshot_file

    profile = "frequent_high_spender" if width == 600 else "international"
    email = engine.render(template, **fixture_request(engine, template, profile))
    assets_url = engine.brand()["assets_url"]
    page = tmp_path / f"{template}.html"
    page.write_text(localize_assets(email.html, assets_url, (PROJECT_ROOT / "assets").as_uri()))
    sizes = screenshot_file(browser, page, ARTIFACTS / f"{template}-{profile}-{width}.png", width=width)
    assert sizes["scrollWidth"] <= sizes["clientWidth"], "no horizontal scrolling"
    assert sizes["brokenImages"] == 0
    assert sizes["height"] > 900


def test_every_fixture_profile_is_covered():
    assert len(PROFILES) >= 6 and len(TEMPLATES) >= 5


def test_arabic_email_reads_right_to_left(engine, browser, tmp_path: Path):
    """The RTL email in Chromium: the page is rtl, text is right-aligned, images sit right of their names."""
    email = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", "locale_ar"))
    page_file = tmp_path / "ar.html"
    page_file.write_text(localize_assets(email.html, engine.brand()["assets_url"],
                                         (PROJECT_ROOT / "assets").as_uri()))
    page = browser.new_page(viewport={"width": 600, "height": 900})
    try:
        page.route("http*://**", lambda route: route.abort())
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        layout = page.evaluate("""() => {
            const name = [...document.querySelectorAll('.product-name a')][0];
            const image = [...document.images].find(i => i.alt === name.textContent.trim());
            const heading = [...document.querySelectorAll('.text-h2 div')][0];
            return {dir: getComputedStyle(document.body.firstElementChild).direction,
                    nameRight: name.getBoundingClientRect().right, imageLeft: image.getBoundingClientRect().left,
                    headingAlign: getComputedStyle(heading).textAlign};
        }""")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "abandoned_cart-locale_ar-600.png"), full_page=True)
    finally:
        page.close()
    assert layout["dir"] == "rtl"
    assert layout["headingAlign"] in ("right", "start")
    assert layout["imageLeft"] >= layout["nameRight"], "the image column sits on the right in RTL"
