"""The one reload mechanism (renderer/content/reload.py), and the caches that use it."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from renderer import Engine
from renderer.content.reload import Reloading

from conftest import PROJECT_ROOT


def bump(path, seconds: int) -> None:
    """Move a file's modification time on, as a save a few seconds later would."""
    stamp = os.stat(path).st_mtime_ns + seconds * 10**9
    os.utime(path, ns=(stamp, stamp))


def test_a_value_is_rebuilt_only_when_one_of_its_files_changes(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("one")
    builds = []

    def build(previous):
        builds.append(previous)
        return source.read_text()

    value = Reloading(lambda: [source], build, interval=0)
    assert value.get() == "one" and value.get() == "one" and builds == [None]
    source.write_text("two")
    bump(source, 5)
    assert not value.fresh()
    assert value.get() == "two" and builds == [None, "one"], "the build is given the previous value"
    assert value.fresh()


def test_a_failed_rebuild_keeps_failing_until_the_file_is_fixed(tmp_path):
    source = tmp_path / "n.txt"
    source.write_text("1")
    value = Reloading(lambda: [source], lambda _: int(source.read_text()), interval=0)
    assert value.get() == 1
    source.write_text("broken")
    bump(source, 5)
    for _ in range(2):
        with pytest.raises(ValueError):
            value.get()
    source.write_text("3")
    bump(source, 10)
    assert value.get() == 3


def test_without_an_interval_the_files_are_never_checked_again(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("one")
    value = Reloading(lambda: [source], lambda _: source.read_text(), interval=None)
    assert value.get() == "one"
    source.write_text("two")
    bump(source, 5)
    assert value.get() == "one" and value.fresh()


def test_the_bestsellers_reload_when_their_file_changes(tmp_path):
    for folder in ("templates", "blocks", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    engine = Engine(tmp_path, reload_interval=0)
    path = tmp_path / "blocks" / "bestsellers.json"
    products = json.loads(path.read_text())
    assert [p.id for p in engine.bestsellers()] == [p["id"] for p in products]
    path.write_text(json.dumps(products[:1]))
    bump(path, 5)
    assert [p.id for p in engine.bestsellers()] == [products[0]["id"]]


def test_a_new_template_declaring_an_event_is_found(tmp_path):
    for folder in ("templates", "blocks", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    engine = Engine(tmp_path, reload_interval=0)
    assert "cart_abandoned" in engine.trigger_templates()
    (tmp_path / "templates" / "abandoned_cart.yaml").rename(tmp_path / "templates" / "cart_reminder.yaml")
    bump(tmp_path / "templates", 5)
    assert engine.trigger_templates()["cart_abandoned"] == "cart_reminder"


def test_an_unknown_template_does_not_stay_in_the_cache():
    engine = Engine()
    for name in ("nope1", "nope2"):
        with pytest.raises(LookupError):
            engine.compiled(name)
    assert not [key for key in engine._cache if key[0].startswith("nope")]
