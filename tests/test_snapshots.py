"""Golden files: one readable .html and .txt per template x fixture.

A changed snapshot is a changed email: review the diff (open the .html in a
browser) before running ``pytest --snapshot-update``, and say why in the commit.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from conftest import PAIRS, fixture_request
from renderer import Engine


class HTMLSnapshot(SingleFileSnapshotExtension):
    file_extension = "html"
    _write_mode = WriteMode.TEXT


class TextSnapshot(SingleFileSnapshotExtension):
    file_extension = "txt"
    _write_mode = WriteMode.TEXT


def _controls(engine, template: str) -> dict[str, str]:
    """Every experiment of the template at its control: the email as it was before the experiment."""
    return {key: experiment.control for key, experiment in engine.compiled(template).spec.experiments.items()}


def _text(email) -> str:
    header = f"Subject: {email.subject}\nPreheader: {email.preheader}\nBlocks: {', '.join(email.blocks)}\n\n"
    return header + email.text


@pytest.mark.parametrize("template,profile", PAIRS)
def test_html_snapshot(engine, snapshot, template, profile):
    email = engine.render(template, **fixture_request(engine, template, profile),
                          force_variants=_controls(engine, template))
    assert email.html == snapshot(extension_class=HTMLSnapshot)


@pytest.mark.parametrize("template,profile", PAIRS)
def test_text_snapshot(engine, snapshot, template, profile):
    email = engine.render(template, **fixture_request(engine, template, profile),
                          force_variants=_controls(engine, template))
    assert _text(email) == snapshot(extension_class=TextSnapshot)


# Each variant of each bundled experiment, the others at their control, for one
# English and one right-to-left fixture.
VARIANTS = [(template, key, name, profile)
            for template in ("recommendations",)
            for key, experiment in Engine().compiled(template).spec.experiments.items()
            for name in experiment.variants if name != experiment.control
            for profile in ("frequent_high_spender", "locale_ar")]


@pytest.mark.parametrize("template,experiment,variant,profile", VARIANTS)
def test_variant_snapshot(engine, snapshot, template, experiment, variant, profile):
    email = engine.render(template, **fixture_request(engine, template, profile),
                          force_variants={**_controls(engine, template), experiment: variant})
    assert email.variants[experiment] == variant
    assert email.html == snapshot(extension_class=HTMLSnapshot)
    assert _text(email) == snapshot(extension_class=TextSnapshot)
