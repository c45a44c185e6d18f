"""The compile cache: a kept template is the compiled one, and anything it was compiled from is a new entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import renderer.compile.cache as cache_module
import renderer.engine as engine_module
from renderer import Engine
from renderer.compile.cache import ENVIRONMENT, CompileCache, default_folder
from renderer.content.fixtures import FIXTURE_NOW
from tests.conftest import FIXTURES, PROJECT_ROOT

FIELDS = ("spec", "fingerprint", "brand", "assembled", "html_source", "text_source", "untranslated")


@pytest.fixture()
def compiles(monkeypatch) -> list[tuple[str, str]]:
    """(template, language) of every compile the engines run from here on: the real one, counted."""
    calls: list[tuple[str, str]] = []
    real = engine_module.compile_template

    def counted(spec, *args, **kwargs):
        compiled = real(spec, *args, **kwargs)
        calls.append((compiled.name, compiled.language))
        return compiled

    monkeypatch.setattr(engine_module, "compile_template", counted)
    return calls


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def test_every_kept_template_is_the_compiled_one_and_renders_the_same_emails(tmp_path, compiles):
    folder = tmp_path / "cache"
    first = Engine(auto_reload=False, compile_cache=folder)
    pairs = [(name, language) for name in first.template_names() for language in sorted(first.languages())]
    fresh = {pair: first.compiled(*pair) for pair in pairs}
    assert len(compiles) == len(pairs) == len(entries(folder))
    second = Engine(auto_reload=False, compile_cache=folder)
    kept = {pair: second.compiled(*pair) for pair in pairs}
    assert len(compiles) == len(pairs), "the second engine compiled nothing"
    for pair in pairs:
        for field in FIELDS:
            assert getattr(kept[pair], field) == getattr(fresh[pair], field), (pair, field)
        assert kept[pair].conditions.expressions == fresh[pair].conditions.expressions
    profile = FIXTURES.profile("frequent_high_spender")
    for name, language in pairs:
        request = {"profile": {**profile, "locale": language}, "recommendations": FIXTURES.recommendations("default"),
                   "event": FIXTURES.event(fresh[(name, language)].spec.event, "frequent_high_spender"),
                   "now": FIXTURE_NOW, "transactional": True}
        email = second.render(name, **request)
        assert email == first.render(name, **request), (name, language)
        assert email.html and email.text


def test_an_edited_block_is_compiled_again(content_copy, tmp_path, compiles):
    folder = tmp_path / "cache"
    before = Engine(content_copy, compile_cache=folder).compiled("welcome").html_source
    assert "A line added after caching" not in before
    block = content_copy / "blocks" / "footer.mjml"
    block.write_text(block.read_text(encoding="utf-8").replace(
        "</mj-text>", "A line added after caching</mj-text>", 1), encoding="utf-8")
    again = Engine(content_copy, compile_cache=folder).compiled("welcome")
    assert "A line added after caching" in again.html_source
    assert len(compiles) == 2 and len(entries(folder)) == 2


def test_other_renderer_code_is_another_entry(tmp_path, compiles, monkeypatch):
    folder = tmp_path / "cache"
    Engine(compile_cache=folder).compiled("welcome")
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "an edited checkout")
    Engine(compile_cache=folder).compiled("welcome")
    assert len(compiles) == 2 and len(entries(folder)) == 2


def test_a_torn_entry_is_compiled_again_and_rewritten(tmp_path, compiles):
    folder = tmp_path / "cache"
    whole = Engine(compile_cache=folder).compiled("welcome").html_source
    (entry,) = entries(folder)
    entry.write_bytes(entry.read_bytes()[:5000])
    assert Engine(compile_cache=folder).compiled("welcome").html_source == whole
    assert len(compiles) == 2
    assert Engine(compile_cache=folder).compiled("welcome").html_source == whole
    assert len(compiles) == 2, "the rewritten entry was read"


def test_a_folder_others_can_write_is_not_used(tmp_path, compiles):
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o777)
    for _ in range(2):
        engine = Engine(compile_cache=folder)
        assert engine.compiled("welcome").html_source
        assert engine.compile_cache is not None and not engine.compile_cache.usable()
    assert len(compiles) == 2 and entries(folder) == []


def test_a_folder_that_cannot_be_made_leaves_the_compile_as_it_was(tmp_path, compiles):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert Engine(compile_cache=blocked / "cache").compiled("welcome").html_source
    assert len(compiles) == 1


def test_the_folder_is_private_and_entries_past_the_limit_go_oldest_first(tmp_path, monkeypatch):
    folder = tmp_path / "deep" / "cache"
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", 2)
    engine = Engine(compile_cache=folder, auto_reload=False)
    order: list[Path] = []
    for second, language in enumerate(("de", "en", "fr"), start=1):
        engine.compiled("welcome", language)
        (new,) = set(entries(folder)) - set(order)
        order.append(new)
        if second < 3:  # written one second apart, on a clock of its own, before the next one
            os.utime(new, ns=(second * 10**9, second * 10**9))
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert entries(folder) == sorted(order[1:]), "the oldest entry was removed"
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in entries(folder))


def test_where_the_cache_is(monkeypatch, tmp_path):
    monkeypatch.delenv(ENVIRONMENT)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_folder() == tmp_path / "xdg" / "renderer" / "compiled"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_folder() == tmp_path / "home" / ".cache" / "renderer" / "compiled"
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "chosen"))
    assert Engine().compile_cache.folder == tmp_path / "chosen"
    assert Engine(compile_cache=tmp_path / "given").compile_cache.folder == tmp_path / "given"
    assert Engine(compile_cache=False).compile_cache is None
    for off in ("off", "OFF", "0", ""):
        monkeypatch.setenv(ENVIRONMENT, off)
        assert Engine().compile_cache is None, off
    assert repr(CompileCache(tmp_path)) == f"CompileCache({str(tmp_path)!r})"


def test_a_worker_engine_uses_the_same_option(tmp_path):
    engine = Engine(compile_cache=tmp_path / "cache")
    assert Engine(**engine.config()).compile_cache.folder == tmp_path / "cache"
    assert Engine(**Engine(compile_cache=False).config()).compile_cache is None


def test_the_batch_command_fills_the_cache_and_a_second_run_writes_the_same_records(tmp_path):
    folder = tmp_path / "cache"
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": f"c{i}", "email": f"c{i}@example.com", "first_name": "Ana",
                                          "locale": locale}) + "\n"
                              for i, locale in enumerate(["en-US", "de-DE", "ja-JP", "ar-EG"])), encoding="utf-8")
    outputs = []
    for workers in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "renderer", "batch", "welcome", "--profiles", str(source),
                               "--out", "-", "--workers", workers, "--now", "2026-11-15T12:00:00Z"],
                              capture_output=True, cwd=PROJECT_ROOT, env={**os.environ, ENVIRONMENT: str(folder)})
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
        assert len(entries(folder)) >= 4, "an entry for each language read"
    assert outputs[0] == outputs[1]
    assert [json.loads(line)["status"] for line in outputs[0].splitlines()] == ["rendered"] * 4
