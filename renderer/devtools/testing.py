"""Helpers for a content project's own tests (the ones ``renderer init`` writes).

Example, in ``tests/test_content.py`` of a content project::

    from pathlib import Path
    from renderer.devtools.testing import assert_content_passes_checks, render_every_fixture

    CONTENT = Path(__file__).resolve().parent.parent

    def test_the_emails_pass_the_checks():
        assert_content_passes_checks(CONTENT)
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from renderer.base.models import RenderedEmail
from renderer.content.fixtures import FixtureSet
from renderer.devtools.check import check_content
from renderer.devtools.gallery import render_all
from renderer.engine import Engine


def render_every_fixture(content: str | Path) -> Iterator[tuple[str, str, RenderedEmail]]:
    """Every template of ``content`` rendered for every fixture profile: (template, profile, email).

    Raises:
        AssertionError: a template x profile does not render (its error is the message).
    """
    engine = Engine(content, auto_reload=False)
    for entry in render_all(engine, FixtureSet(engine.layout.fixtures)):
        assert entry.email is not None, f"{entry.template} x {entry.fixture}: {entry.error}"
        yield entry.template, entry.fixture, entry.email


def assert_content_passes_checks(content: str | Path) -> None:
    """``renderer check`` over ``content``: fails with the report when it finds an error."""
    report = check_content(Engine(content, auto_reload=False))
    assert report.ok, report.to_text()
