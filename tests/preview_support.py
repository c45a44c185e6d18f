"""Helpers for the preview tests: a private copy of the content, a real server, HTTP calls."""

from __future__ import annotations

import contextlib
import http.client
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from renderer.engine import PROJECT_ROOT
from renderer.preview.app import create_app
from renderer.preview.project import ContentPaths, PreviewProject
from renderer.preview.server import serve_in_thread

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "preview"


def copy_content(dest: Path) -> ContentPaths:
    """Templates, blocks, locales, fixtures and rules copied to ``dest`` (safe to edit); the real assets."""
    for folder in ("templates", "blocks", "fixtures", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, dest / folder)
    shutil.copy(PROJECT_ROOT / "segments.yaml", dest / "segments.yaml")
    return ContentPaths.at(dest, assets=PROJECT_ROOT / "assets")


@contextlib.contextmanager
def preview_server(paths: ContentPaths) -> Iterator[tuple[str, PreviewProject]]:
    """The preview app over ``paths``, served on a free 127.0.0.1 port; yields (base URL, project)."""
    project = PreviewProject(paths)
    with serve_in_thread(create_app(project)) as url:
        yield url.rstrip("/"), project


def get(url: str, *, data: bytes | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a request; 4xx and 5xx are returned, not raised."""
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, _headers(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, _headers(error.headers), error.read().decode("utf-8")


def raw_get(base: str, path: str, host: str | None = None) -> tuple[int, str]:
    """GET ``path`` exactly as written (no client-side ``..`` clean-up); status and body."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@contextlib.contextmanager
def edited(path: Path, change: Callable[[str], str]) -> Iterator[None]:
    """Apply ``change`` to a file's text for the duration of the block, then restore it."""
    original = path.read_text(encoding="utf-8")
    changed = change(original)
    if changed == original:
        raise ValueError(f"the edit changes nothing in {path}")
    path.write_text(changed, encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def wait_for(condition: Callable[[], bool], timeout: float = 5.0, step: float = 0.05) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def _headers(message) -> dict[str, str]:
    return {key.lower(): value for key, value in message.items()}
