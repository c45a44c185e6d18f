"""``renderer screenshot``: one email for one profile as a PNG, from headless Chromium.

Images on the brand's CDN are read from the project's ``assets/`` folder
instead, and every other network request is blocked, so a screenshot shows
exactly what the content files say, offline.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from renderer.base.errors import ConfigError
from renderer.base.models import Event, Product, Profile
from renderer.devtools.gallery import localize_assets
from renderer.engine import Engine


def screenshot_email(engine: Engine, template: str, out: str | Path, *, profile: Profile | dict[str, Any],
                     recommendations: list[Product] | list[dict[str, Any]] | None = None,
                     event: Event | dict[str, Any] | None = None, now: datetime | None = None,
                     width: int = 375, assets: Path | None = None) -> dict[str, int]:
    """Render one email and save a full-page PNG of it at ``width`` CSS pixels.

    Returns the page's sizes (``scrollWidth``, ``clientWidth``, ``height``,
    ``brokenImages``). Raises what :meth:`Engine.render` raises, and
    ``RendererError`` when Chromium or Playwright is missing.
    """
    from renderer.devtools.browser import chromium, screenshot_file

    if width < 200 or width > 2000:
        raise ConfigError(f"width must be between 200 and 2000 pixels, not {width}")
    email = engine.render(template, profile=profile, recommendations=recommendations, event=event, now=now)
    assets = assets or engine.layout.assets
    markup = localize_assets(email.html, str(engine.brand().get("assets_url") or ""), assets.resolve().as_uri())
    with tempfile.TemporaryDirectory(prefix="renderer-screenshot-") as folder:
        page = Path(folder) / f"{template}.html"
        page.write_text(markup, encoding="utf-8")
        with chromium() as browser:
            return screenshot_file(browser, page, Path(out), width=width)
