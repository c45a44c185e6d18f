"""The preview in a real browser: Playwright driving Debian's Chromium against a live server.

The server serves a private copy of the content, so tests can edit blocks
and watch the open page follow. Screenshots land in test-artifacts/preview/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import PROFILES, TEMPLATES
from preview_support import ARTIFACTS, copy_content, edited, preview_server

# Every wait is for something on the page, bounded generously: only a hang fails, not a busy machine.
expect.set_options(timeout=60_000)

_FRAMES_LOADED = """(count) => [...document.querySelectorAll('iframe')].slice(0, count).every(f => {
    const doc = f.contentDocument;
    return doc && doc.readyState === 'complete' && doc.body && doc.body.children.length
        && [...doc.images].every(i => i.complete);
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    paths = copy_content(tmp_path_factory.mktemp("content"))
    with preview_server(paths) as (url, project):
        yield url, project


@pytest.fixture()
def page(browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(60_000)
    # The emails link to the brand's made-up domain; nothing may leave the machine.
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    yield page
    page.close()


def open_email(page: Page, url: str, query: str) -> None:
    page.goto(f"{url}/email/{query}")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    page.wait_for_function(_FRAMES_LOADED, arg=2)


def test_gallery_lists_every_template_and_fixture(page, server):
    url, _ = server
    page.goto(url + "/")
    cards = page.locator("a.card")
    expect(cards).to_have_count(len(TEMPLATES) * len(PROFILES))
    # Cards still compiling fill in place as the background compiler announces them.
    expect(page.locator("[data-pending]")).to_have_count(0, timeout=180_000)
    expect(page.locator(".compiling")).to_have_count(0)
    pairs = {(card.get_attribute("data-template"), card.get_attribute("data-profile")) for card in cards.all()}
    assert pairs == {(t, p) for t in TEMPLATES for p in PROFILES}
    expect(page.locator(".stats")).to_contain_text("Problems0")
    page.wait_for_function(_FRAMES_LOADED, arg=len(PROFILES) * 2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery.png"))
    cards.first.click()
    expect(page).to_have_url(re.compile(r"/email/abandoned_cart\?profile=frequent_high_spender$"))


@pytest.mark.parametrize("template", TEMPLATES)
def test_mobile_frame_is_375_px_without_horizontal_scroll(page, server, template):
    url, _ = server
    open_email(page, url, f"{template}?profile=international")
    frame_box = page.locator("#mobile-frame").bounding_box()
    assert frame_box is not None and frame_box["width"] == 375
    mobile = page.locator("#mobile-frame").element_handle().content_frame()
    sizes = mobile.evaluate("""() => ({inner: window.innerWidth, client: document.documentElement.clientWidth,
        scroll: document.documentElement.scrollWidth, broken: [...document.images].filter(i => !i.naturalWidth).length})""")
    assert sizes["inner"] == sizes["client"] == 375, sizes
    assert sizes["scroll"] <= sizes["client"], f"horizontal scroll in the mobile frame: {sizes}"
    assert sizes["broken"] == 0, "every image loads from the local assets"
    desktop = page.locator("#desktop-frame").bounding_box()
    assert desktop is not None and desktop["width"] >= 600
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / f"email-{template}.png"), full_page=True)
    if template == "welcome":
        page.locator(".device.mobile").screenshot(path=str(ARTIFACTS / "email-mobile.png"))


def test_switching_profile_changes_the_first_name_in_place(page, server):
    url, _ = server
    open_email(page, url, "welcome?profile=new_customer")
    desktop = page.frame_locator("#desktop-frame")
    expect(desktop.get_by_text("Welcome in, Priya.")).to_be_visible()
    page.evaluate("window.stayedOnThePage = true")

    page.select_option("#pick-profile", "frequent_high_spender")
    expect(page.frame_locator("#desktop-frame").get_by_text("Welcome in, Elena.")).to_be_visible()
    expect(page.frame_locator("#mobile-frame").get_by_text("Welcome in, Elena.")).to_be_visible()
    expect(page.locator("#subject")).to_have_text("Welcome to Fernhill, Elena")
    expect(page).to_have_url(re.compile(r"/email/welcome\?profile=frequent_high_spender$"))

    page.select_option("#pick-recs", "empty")
    expect(page.locator("#blocks-panel li.hidden")).to_contain_text("product_grid")
    page.select_option("#pick-template", "win_back")
    expect(page.locator("#subject")).to_contain_text("Elena")
    expect(page).to_have_url(re.compile(r"/email/win_back\?profile=frequent_high_spender&recs=empty$"))
    assert page.evaluate("window.stayedOnThePage") is True, "the pickers switch without reloading the page"

    page.go_back()
    expect(page.locator("#pick-template")).to_have_value("welcome")


def test_text_and_source_tabs(page, server):
    url, _ = server
    open_email(page, url, "abandoned_cart?profile=occasional_browser")
    page.get_by_role("tab", name="Plain text").click()
    expect(page.locator("#plain-text")).to_be_visible()
    expect(page.locator("#plain-text")).to_contain_text("Zoë")
    expect(page.locator("#desktop-frame")).to_be_hidden()
    page.get_by_role("tab", name="HTML source").click()
    expect(page.locator("#html-source")).to_contain_text("<!doctype html>")
    assert page.locator("#download-html").get_attribute("href").endswith("&download=1")
    page.screenshot(path=str(ARTIFACTS / "html-source.png"))


def test_editing_a_block_updates_the_open_page(page, server):
    url, project = server
    open_email(page, url, "welcome?profile=new_customer")
    page.evaluate("window.stayedOnThePage = true")
    hero = project.paths.blocks / "hero.mjml"
    with edited(hero, lambda text: text.replace("[[ headline ]]", "[[ headline ]] Fresh from the kiln", 1)):
        expect(page.frame_locator("#desktop-frame").get_by_text("Fresh from the kiln")).to_be_visible()
        expect(page.frame_locator("#mobile-frame").get_by_text("Fresh from the kiln")).to_be_visible()
        expect(page.locator("#toast")).to_contain_text("blocks/hero.mjml")
        page.screenshot(path=str(ARTIFACTS / "live-reload.png"))
    expect(page.frame_locator("#desktop-frame").get_by_text("Fresh from the kiln")).to_have_count(0)
    assert page.evaluate("window.stayedOnThePage") is True, "live reload keeps the page in place"


def test_broken_block_shows_the_error_and_recovers(page, server):
    url, project = server
    open_email(page, url, "welcome?profile=new_customer")
    hero = project.paths.blocks / "hero.mjml"
    with edited(hero, lambda text: text.replace("[% endif %]", "", 1)):
        error = page.locator("#content-error")
        expect(error).to_contain_text("blocks/hero.mjml, line 25")
        expect(error).to_contain_text("Unexpected end of template")
        expect(error.locator(".excerpt .hit")).to_contain_text("25")
        page.screenshot(path=str(ARTIFACTS / "broken-block.png"))
    expect(page.locator("#content-error")).to_have_count(0)
    expect(page.frame_locator("#desktop-frame").get_by_text("Welcome in, Priya.")).to_be_visible()


def test_pasted_profile_with_a_bad_email_names_the_field(page, server):
    url, _ = server
    open_email(page, url, "welcome?profile=minimal")
    page.get_by_role("tab", name="Profile data").click()
    page.locator("#profile-json").fill('{"id": "p1", "email": "not-an-email", "first_name": "Mia"}')
    page.locator("#render-profile").click()
    problems = page.locator("#input-problems")
    expect(problems).to_contain_text("profile.email")
    expect(problems).to_contain_text("not a valid email address")
    expect(page.locator("#profile-json")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "custom-profile-error.png"))

    page.locator("#profile-json").fill('{"id": "p1", "email": "mia@example.com", "first_name": "Mia"}')
    page.locator("#render-profile").click()
    expect(page.locator("#subject")).to_have_text("Welcome to Fernhill, Mia")
    expect(page.locator("#pick-profile")).to_have_value(re.compile(r"^custom-"))


def test_dark_mode_toggle_shows_the_email_dark_and_is_remembered(page, server):
    url, _ = server
    open_email(page, url, "abandoned_cart?profile=new_customer")
    body_color = "() => getComputedStyle(document.body).backgroundColor"
    desktop = page.locator("#desktop-frame").element_handle().content_frame()
    assert desktop.evaluate(body_color) == "rgb(243, 237, 226)"  # the brand's sand
    page.locator("#dark-toggle").click()
    expect(page.locator("#dark-toggle")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("""() => {
        const doc = document.querySelector('#desktop-frame').contentDocument;  // null while it reloads
        return doc && doc.body && getComputedStyle(doc.body).backgroundColor === 'rgb(22, 26, 23)';
    }""")
    page.screenshot(path=str(ARTIFACTS / "email-dark.png"), full_page=True)
    page.reload()
    expect(page.locator("#dark-toggle")).to_have_attribute("aria-pressed", "true")
    page.locator("#dark-toggle").click()
    expect(page.locator("#dark-toggle")).to_have_attribute("aria-pressed", "false")
