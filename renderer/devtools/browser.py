"""Headless Chromium (Debian's), driven by Playwright: screenshots and checks.

Playwright is an optional dependency (``pip install .[browser]``); nothing
else in the package imports this module.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from renderer.base.errors import RendererError
from renderer.base.extras import needs_extra

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str:
    """``$RENDERER_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    path = os.environ.get("RENDERER_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        raise RendererError(f"Chromium not found at {path}: install Debian's 'chromium' "
                            "package or set RENDERER_CHROMIUM")
    return path


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium browser (Playwright ``Browser``)."""
    with needs_extra("browser", "screenshots"):
        from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_file(browser: Any, page_file: Path, out: Path, *, width: int = 600) -> dict[str, int]:
    """Open a local HTML file at ``width`` CSS pixels, save a full-page PNG, return page sizes.

    Requests to http(s) are blocked, as in an offline preview: only local
    files (e.g. images copied next to the page) load.
    """
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.route("http*://**", lambda route: route.abort())
        page.goto(Path(page_file).resolve().as_uri(), wait_until="load")
        sizes = page.evaluate(
            "() => ({scrollWidth: document.documentElement.scrollWidth,"
            " clientWidth: document.documentElement.clientWidth,"
            " height: document.documentElement.scrollHeight,"
            " brokenImages: [...document.images].filter(i => !i.complete || !i.naturalWidth).length})"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        return sizes
    finally:
        page.close()
