"""Golden files: one readable .html and .txt per template x fixture.

A changed snapshot is a changed email: review the diff (open the .html in a
browser) before running ``pytest --snapshot-update``, and say why in the commit.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from conftest import PAIRS, fixture_request


class HTMLSnapshot(SingleFileSnapshotExtension):
    file_extension = "html"
    _write_mode = WriteMode.TEXT


class TextSnapshot(SingleFileSnapshotExtension):
    file_extension = "txt"
    _write_mode = WriteMode.TEXT


@pytest.mark.parametrize("template,profile", PAIRS)
def test_html_snapshot(engine, snapshot, template, profile):
    email = engine.render(template, **fixture_request(engine, template, profile))
    assert email.html == snapshot(extension_class=HTMLSnapshot)


@pytest.mark.parametrize("template,profile", PAIRS)
def test_text_snapshot(engine, snapshot, template, profile):
    email = engine.render(template, **fixture_request(engine, template, profile))
    header = f"Subject: {email.subject}\nPreheader: {email.preheader}\nBlocks: {', '.join(email.blocks)}\n\n"
    assert header + email.text == snapshot(extension_class=TextSnapshot)
