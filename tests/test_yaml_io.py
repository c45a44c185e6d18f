"""renderer/content/yaml_io.py: YAML within an alias budget, for every content file."""

from __future__ import annotations

import shutil
import time

import pytest
import yaml

from renderer import Engine, TemplateError
from renderer.content import yaml_io
from renderer.content.fixtures import FIXTURE_NOW

from conftest import FIXTURES, PROJECT_ROOT

LEVELS = 9
"""Nine levels of nine aliases each: 855 bytes that expand to over 387 million nodes."""


def bomb_lines() -> list[str]:
    lines = ["x-laugh0: &laugh0 [ha, ha, ha, ha, ha, ha, ha, ha, ha]"]
    for level in range(1, LEVELS):
        aliases = ", ".join([f"*laugh{level - 1}"] * 9)
        lines.append(f"x-laugh{level}: &laugh{level} [{aliases}]")
    return lines


BOMB_ALIAS_LINE = 5
"""The bomb's line that crosses the budget: levels 0-3 expand to 8,302 nodes, level 4 adds 7,381 per alias."""


def test_a_billion_laughs_is_refused_at_the_alias_that_crosses_the_budget():
    text = "\n".join(bomb_lines()) + "\n"
    started = time.process_time()
    with pytest.raises(yaml_io.AliasBudgetError) as caught:
        yaml_io.safe_load(text)
    assert time.process_time() - started < 2
    assert caught.value.problem_mark.line + 1 == BOMB_ALIAS_LINE
    assert "*laugh3" in caught.value.problem
    with pytest.raises(yaml_io.AliasBudgetError):
        yaml_io.compose(text)


def _insert_into_mapping(path, lines):
    path.write_text("\n".join(lines) + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return 0  # the bomb's first line is the file's first line


def _insert_into_block_header(path, lines):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("{#---\n")
    path.write_text("{#---\n" + "\n".join(lines) + "\n" + text[len("{#---\n"):], encoding="utf-8")
    return 1  # after the header's opening line


@pytest.mark.parametrize("relative, insert", [
    ("segments.yaml", _insert_into_mapping),
    ("templates/welcome.yaml", _insert_into_mapping),
    ("blocks/hero.mjml", _insert_into_block_header),
    ("blocks/brand.yaml", _insert_into_mapping),
    ("locales/en.yaml", _insert_into_mapping),
])
def test_an_alias_bomb_in_a_content_file_is_a_template_error_with_file_and_line(content_copy, relative, insert):
    shutil.copy(PROJECT_ROOT / "segments.yaml", content_copy / "segments.yaml")
    path = content_copy / relative
    offset = insert(path, bomb_lines())
    engine = Engine(content_copy)
    started = time.process_time()
    with pytest.raises(TemplateError) as caught:
        engine.render("welcome", profile=FIXTURES.profile("frequent_high_spender"), now=FIXTURE_NOW)
    elapsed = time.process_time() - started
    assert elapsed < 2, f"refusing the bomb took {elapsed:.1f} s of CPU"  # CPU time: load does not stretch it
    error = caught.value
    assert error.filename is not None and error.filename.endswith(relative)
    assert error.lineno == offset + BOMB_ALIAS_LINE
    assert "alias *laugh3 expands the document past" in error.message


def test_a_recursive_alias_is_refused_with_its_line():
    with pytest.raises(yaml_io.AliasBudgetError, match=r"alias \*loop refers to a node that contains it") as caught:
        yaml_io.safe_load("name: x\nloop: &loop\n  - a\n  - [*loop]\n")
    assert caught.value.problem_mark.line + 1 == 4


@pytest.mark.parametrize("text", [
    "base: &base {color: '#123', size: 14}\nheading:\n  <<: *base\n  size: 22\nbody: *base\n",
    "a: &a [1, 2, 3]\nb: [*a, *a, *a]\nc: *a\n",
    "title: '&amp; and * are text here'\nitems: ['*', '&']\n",
    "shared: &s " + "[" + ", ".join(["w"] * 900) + "]\nmore: [" + ", ".join(["*s"] * 10) + "]\n",
])
def test_ordinary_anchors_and_aliases_load_as_before(text):
    assert yaml_io.safe_load(text) == yaml.safe_load(text)
    assert yaml.serialize(yaml_io.compose(text)) == yaml.serialize(yaml.compose(text))


def test_the_budget_grows_with_the_document():
    # 2,003 own nodes may expand ten times over (20,030 nodes) but not past that.
    words = ", ".join(["w"] * 1998)
    inside = f"shared: &s [{words}]\n"  # with the keys and collections: 2,003 own nodes
    assert yaml_io.safe_load(inside + "more: [" + ", ".join(["*s"] * 8) + "]\n")
    with pytest.raises(yaml_io.AliasBudgetError):
        yaml_io.safe_load(inside + "more: [" + ", ".join(["*s"] * 10) + "]\n")
