from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renderer import Engine
from renderer.engine import PROJECT_ROOT
from renderer.fixtures import FIXTURE_NOW, FixtureSet

FIXTURES = FixtureSet(PROJECT_ROOT / "fixtures")
TEMPLATES = Engine(templates_dir=PROJECT_ROOT / "templates", blocks_dir=PROJECT_ROOT / "blocks").template_names()
PROFILES = FIXTURES.profile_names()
PAIRS = [(t, p) for t in TEMPLATES for p in PROFILES]


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(templates_dir=PROJECT_ROOT / "templates", blocks_dir=PROJECT_ROOT / "blocks")


@pytest.fixture(scope="session")
def fixtures() -> FixtureSet:
    return FIXTURES


def fixture_request(engine: Engine, template: str, profile: str) -> dict:
    """The keyword arguments the gallery uses for a template x fixture pair."""
    return {
        "profile": FIXTURES.profile(profile),
        "recommendations": FIXTURES.recommendations(profile),
        "event": FIXTURES.event(engine.compiled(template).spec.event),
        "now": FIXTURE_NOW,
    }


@pytest.fixture()
def content_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled templates and blocks, safe to edit."""
    for folder in ("templates", "blocks"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path
