"""Emails in a real headless Chromium: mobile and desktop widths.

Screenshots land in test-artifacts/emails/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PROFILES, TEMPLATES, fixture_request
from renderer.browser import chromium
from renderer.engine import PROJECT_ROOT
from renderer.gallery import localize_assets

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "emails"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("width", [375, 600])
def test_email_fits_the_screen_and_images_load(engine, browser, tmp_path: Path, template, width):
    from renderer.browser import screenshot_file

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
