"""Helpers for the tests that need npm packages (tests/node/) and for email pages in Chromium.

The npm packages (the JavaScript MJML compiler, axe-core, the Nu validator) are pinned in
``tests/node/package-lock.json`` and installed with ``npm ci --prefix tests/node``.
Without them a test is skipped, saying how to install them; under
``RENDERER_REQUIRE_NODE=1`` (set by ``.ci/run``) it fails instead, so CI
can never skip them silently.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import PROJECT_ROOT

NODE_DIR = PROJECT_ROOT / "tests" / "node"
ASSETS = PROJECT_ROOT / "assets"


def _missing(what: str) -> None:
    message = f"{what}: run `npm ci --prefix tests/node` (node 20 or later)"
    if os.environ.get("RENDERER_REQUIRE_NODE") == "1":
        pytest.fail(f"{message}; RENDERER_REQUIRE_NODE=1 makes this a failure", pytrace=False)
    pytest.skip(message)


def node_executable() -> str:
    """The ``node`` on PATH, or skip (fail under ``RENDERER_REQUIRE_NODE=1``)."""
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed")
    return node


def node_package_file(package: str, relative: str) -> Path:
    """A file of an installed npm package (``axe-core``, ``axe.min.js``), or skip (fail in CI)."""
    path = NODE_DIR / "node_modules" / package / relative
    if not path.is_file():
        _missing(f"the npm package {package} is not installed in tests/node/node_modules")
    return path


def serve_assets(page: Any, assets_url: str) -> None:
    """Answer requests for the brand's CDN from ``assets/``; abort every other request.

    Pages opened with ``page.set_content`` then load their images offline, at
    their real sizes, as in ``renderer screenshot``.
    """
    prefix = assets_url.rstrip("/") + "/"

    def answer(route: Any) -> None:
        url = route.request.url
        if url.startswith(prefix):
            path = (ASSETS / url[len(prefix):].split("?", 1)[0]).resolve()
            if path.is_file() and path.is_relative_to(ASSETS.resolve()):
                route.fulfill(path=str(path))
                return
        route.abort()

    page.route("**/*", answer)
