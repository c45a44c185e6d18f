from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# Every test compiles from its content, as before the compile cache, and nothing is written to the
# user's ~/.cache: tests of the cache give it a folder of their own (tests/test_compile_cache.py).
os.environ.setdefault("RENDERER_COMPILE_CACHE", "off")

from renderer import Engine  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout: its demo content (templates/, blocks/, fixtures/, ...) and test-artifacts/."""

INTERRUPTIBLE = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                 "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"]
"""Put in place of ``sys.executable`` in the command of a process that a test stops with SIGINT (Ctrl+C).

A process inherits an ignored SIGINT, and Python then leaves it ignored: a suite run as a background
job of a non-interactive shell (``make test &`` in a script, ``nohup``) would wait for ever for a
child that never sees its Ctrl+C. This sets SIGINT to its default and then runs the command."""

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
        "event": FIXTURES.event(engine.compiled(template).spec.event, profile),
        "now": FIXTURE_NOW,
    }


@pytest.fixture()
def content_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled templates, blocks and locales, safe to edit."""
    for folder in ("templates", "blocks", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


PLANTED = {"frequent_high_spender": 1, "new_customer": 1, "at_risk": 1}
"""Three well-separated archetypes: the groups a persona fit should find again."""


@pytest.fixture(scope="session")
def planted_profiles() -> list[dict]:
    """900 synthetic profiles, a third from each planted archetype."""
    from renderer.devtools.synthetic import generate_profiles

    return list(generate_profiles(900, seed=3, now=FIXTURE_NOW, weights=PLANTED))


@pytest.fixture(scope="session")
def planted_personas(planted_profiles, tmp_path_factory) -> Path:
    """A personas file fitted (k=3, seed 0) on the planted profiles."""
    import json

    from renderer.audience.fit.personas import fit_personas, read_features
    from renderer.audience.personas import dump_personas

    table = read_features([json.dumps(p) for p in planted_profiles], FIXTURE_NOW)
    path = tmp_path_factory.mktemp("personas") / "personas.json"
    path.write_text(dump_personas(fit_personas(table, now=FIXTURE_NOW, k=3, seed=0).spec), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def dask_client():
    """A client of a real LocalCluster: 2 worker processes, one thread each, on 127.0.0.1 only."""
    from distributed import Client

    from renderer.batch.dask.cluster import local_cluster

    with local_cluster(2) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process (Debian's, with the project's flags)."""
    from renderer.devtools.browser import chromium

    with chromium() as launched:
        yield launched
