"""``renderer screenshot``: one email for one profile as a PNG, from headless Chromium.

Images on the brand's CDN are read from the project's ``assets/`` folder
instead, and every other network request is blocked, so a screenshot shows
exactly what the content files say, offline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from .cli_args import add_request_arguments, engine_from_args, request_from_args
from .engine import Engine, default_content_root
from .gallery import localize_assets
from .models import Event, Product, Profile


def screenshot_email(engine: Engine, template: str, out: str | Path, *, profile: Profile | dict[str, Any],
                     recommendations: list[Product] | list[dict[str, Any]] | None = None,
                     event: Event | dict[str, Any] | None = None, now: datetime | None = None,
                     width: int = 375, assets: Path | None = None) -> dict[str, int]:
    """Render one email and save a full-page PNG of it at ``width`` CSS pixels.

    Returns the page's sizes (``scrollWidth``, ``clientWidth``, ``height``,
    ``brokenImages``). Raises what :meth:`Engine.render` raises, and
    ``RendererError`` when Chromium or Playwright is missing.
    """
    from .browser import chromium, screenshot_file

    if width < 200 or width > 2000:
        raise ValueError(f"width must be between 200 and 2000 pixels, not {width}")
    email = engine.render(template, profile=profile, recommendations=recommendations, event=event, now=now)
    assets = assets or default_content_root() / "assets"
    markup = localize_assets(email.html, str(engine.brand().get("assets_url") or ""), assets.resolve().as_uri())
    with tempfile.TemporaryDirectory(prefix="renderer-screenshot-") as folder:
        page = Path(folder) / f"{template}.html"
        page.write_text(markup, encoding="utf-8")
        with chromium() as browser:
            return screenshot_file(browser, page, Path(out), width=width)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``screenshot`` subcommand to the ``renderer`` parser."""
    shot = subparsers.add_parser("screenshot", help="render one email to a PNG with headless Chromium")
    add_request_arguments(shot)
    shot.add_argument("--out", required=True, help="PNG file to write")
    shot.add_argument("--width", type=int, default=375, help="viewport width in CSS pixels (default: 375)")
    shot.set_defaults(func=cmd_screenshot)


def cmd_screenshot(args: argparse.Namespace) -> int:
    # The global --locales and --personas count here too, as for `renderer render`.
    sizes = screenshot_email(engine_from_args(args), args.template, args.out, width=args.width,
                             **request_from_args(args))
    print(f"wrote {args.out}: {args.width} x {sizes['height']} px")
    if sizes["scrollWidth"] > sizes["clientWidth"]:
        print(f"warning: the email is {sizes['scrollWidth']} px wide, wider than the "
              f"{sizes['clientWidth']} px screen", file=sys.stderr)
    if sizes["brokenImages"]:
        print(f"warning: {sizes['brokenImages']} image(s) did not load", file=sys.stderr)
    return 0
