"""Helpers for the preview tests: a private copy of the content, a real server, HTTP calls.

Every wait here is for an event (a response, a server-sent event, a file), bounded
generously (``PATIENCE``) so that only a hang fails, never a busy machine.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from renderer.content.layout import ContentLayout
from renderer.devtools.preview.app import create_app
from renderer.devtools.preview.project import PreviewProject
from renderer.devtools.preview.server import serve_in_thread

from conftest import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "preview"
PATIENCE = 120.0
"""Seconds any one wait may take before the test fails: far beyond a busy machine's slowest."""


def copy_content(dest: Path) -> ContentLayout:
    """Templates, blocks, locales, fixtures and rules copied to ``dest`` (safe to edit); the real assets."""
    for folder in ("templates", "blocks", "fixtures", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, dest / folder)
    shutil.copy(PROJECT_ROOT / "segments.yaml", dest / "segments.yaml")
    return ContentLayout.at(dest, assets=PROJECT_ROOT / "assets")


@contextlib.contextmanager
def preview_server(paths: ContentLayout) -> Iterator[tuple[str, PreviewProject]]:
    """The preview app over ``paths``, served on a free 127.0.0.1 port; yields (base URL, project)."""
    project = PreviewProject(paths)
    with serve_in_thread(create_app(project)) as url:
        yield url.rstrip("/"), project


def get(url: str, *, data: bytes | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a request; 4xx and 5xx are returned, not raised."""
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=PATIENCE) as response:
            return response.status, _headers(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, _headers(error.headers), error.read().decode("utf-8")


def raw_get(base: str, path: str, host: str | None = None) -> tuple[int, str]:
    """GET ``path`` exactly as written (no client-side ``..`` clean-up); status and body."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=PATIENCE)
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


def read_event(response: http.client.HTTPResponse, name: str) -> dict | None:
    """The data of the next ``name`` event on an event stream; None when the stream ends."""
    event = None
    while line := response.readline().decode():
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event == name:
            return json.loads(line[6:])
    return None


@contextlib.contextmanager
def event_stream(base: str) -> Iterator[http.client.HTTPResponse]:
    """The preview's ``/events`` stream, open (its ``hello`` read) for the duration of the block."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=PATIENCE)
    connection.request("GET", "/events")
    response = connection.getresponse()
    try:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert read_event(response, "hello") == {}
        yield response
    finally:
        connection.close()


def wait_for_change(events: http.client.HTTPResponse, file: str) -> None:
    """Wait for the change notice naming ``file`` (earlier edits may be announced first).

    Once it comes, the server's next render is sure to see the new files.
    """
    while (data := read_event(events, "change")) is not None:
        if file in data["files"]:
            return
    raise AssertionError(f"the event stream ended without a change event for {file}")


def compiled_gallery(base: str) -> str:
    """The gallery page once the background compiler has filled in every card."""
    with event_stream(base) as events:
        while True:
            status, _, body = get(base + "/")
            assert status == 200, body
            if "data-pending" not in body:
                return body
            # Each compiled template is announced; the next gallery has more cards filled in.
            assert read_event(events, "compiled") is not None, "the event stream ended"


def _headers(message) -> dict[str, str]:
    return {key.lower(): value for key, value in message.items()}
