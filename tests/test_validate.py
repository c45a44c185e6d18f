"""The MJML check (renderer/compile/validate.py) and errors told where the text was typed."""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import pytest

from renderer import CompileError, Engine, TemplateError, TemplateNotFound
from renderer.compile.mjml_schema import ELEMENTS
from renderer.compile.validate import problems, scan

from conftest import PROJECT_ROOT
from node_support import NODE_DIR, node_executable, node_package_file


def _edit(root: Path, relative: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` once; return the line the new text is on."""
    path = root / relative
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if new.splitlines()[-1] in line)


def _engine(root: Path) -> Engine:
    return Engine(templates_dir=root / "templates", blocks_dir=root / "blocks")


def _error(root: Path, error_type: type[Exception] = TemplateError, template: str = "welcome") -> TemplateError:
    with pytest.raises(error_type) as caught:
        _engine(root).compiled(template)
    error = caught.value
    assert pickle.loads(pickle.dumps(error)).args == error.args, "errors cross process pools"
    return error


def test_a_misspelled_tag_is_named_in_its_block_file_with_the_line_and_the_right_tag(content_copy):
    line = _edit(content_copy, "blocks/hero.mjml", '<mj-text align="center" padding',
                 '<mj-txet align="center" padding')
    error = _error(content_copy, CompileError)
    assert error.filename.endswith("blocks/hero.mjml") and error.lineno == line
    assert "unknown MJML tag <mj-txet> (did you mean <mj-text>?)" in error.message


def test_of_two_misspelled_tags_the_first_is_named_at_its_own_line(content_copy):
    path = content_copy / "blocks" / "hero.mjml"
    path.write_text(path.read_text().replace("<mj-text ", "<mj-txet "))
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if "<mj-txet" in line]
    assert len(lines) == 2 and lines[1] == lines[0] + 1
    error = _error(content_copy, CompileError)
    assert error.filename.endswith("blocks/hero.mjml") and error.lineno == lines[0]
    assert "(and 1 more MJML problem)" in error.message


def test_a_misspelled_attribute_is_named_with_its_line_and_the_right_attribute(content_copy):
    line = _edit(content_copy, "blocks/footer.mjml", "<mj-text ", '<mj-text colr="#000000" ')
    error = _error(content_copy, CompileError)
    assert error.filename.endswith("blocks/footer.mjml") and error.lineno == line
    assert "<mj-text> has no attribute 'colr' (did you mean 'color'?)" in error.message


def test_a_tag_where_mjml_does_not_allow_it_is_an_error(content_copy):
    line = _edit(content_copy, "blocks/hero.mjml", "  <mj-column>\n    <mj-image",
                 "  <mj-column>\n    <mj-section></mj-section>\n    <mj-image")
    error = _error(content_copy, CompileError)
    assert error.filename.endswith("blocks/hero.mjml") and error.lineno == line - 1
    assert "<mj-section> cannot be used inside <mj-column>, only inside <mj-body>, <mj-wrapper>" in error.message


def test_a_bad_attribute_in_the_theme_is_named_in_the_theme(content_copy):
    line = _edit(content_copy, "blocks/_theme.mjml", "<mj-divider border-color", "<mj-divider border-colour")
    error = _error(content_copy, CompileError)
    assert error.filename.endswith("blocks/_theme.mjml") and error.lineno == line
    assert "did you mean 'border-color'?" in error.message


def test_mjml_written_in_a_template_parameter_is_named_at_the_parameter(content_copy):
    # A block that prints a parameter between MJML tags: the bad attribute was typed in the template.
    root = content_copy
    (root / "blocks" / "raw.mjml").write_text("{#---\nparams:\n  content: {doc: MJML, required: true}\n---#}\n"
                                              "<mj-section><mj-column>[[ content ]]</mj-column></mj-section>\n")
    (root / "templates" / "raw.yaml").write_text(
        'subject: "Hi"\nblocks:\n  - block: raw\n    params:\n'
        '      content: \'<mj-image src="https://cdn.fernhill.example/a.png" atl="A" />\'\n  - block: footer\n')
    error = _error(root, CompileError, "raw")
    assert error.filename.endswith("templates/raw.yaml") and error.lineno == 5
    assert "<mj-image> has no attribute 'atl' (did you mean 'alt'?)" in error.message


def test_an_unknown_token_in_a_template_parameter_is_named_at_the_parameter(content_copy):
    line = _edit(content_copy, "templates/welcome.yaml", "{{ FirstName }}{% endif %}.",
                 "{{ Firstname }}{% endif %}.")
    error = _error(content_copy)
    assert error.filename.endswith("templates/welcome.yaml") and error.lineno == line
    assert "parameter 'headline'" in error.message
    assert "unknown token Firstname (did you mean FirstName?)" in error.message


def test_an_unknown_token_in_a_block_still_names_the_block_with_a_suggestion(content_copy):
    line = _edit(content_copy, "blocks/footer.mjml", "{{ Year }}", "{{ Yeer }}")
    error = _error(content_copy)
    assert error.filename.endswith("blocks/footer.mjml") and error.lineno == line
    assert "unknown token Yeer (did you mean Year?)" in error.message


def test_an_unknown_block_names_the_template_line_the_closest_block_and_the_blocks(content_copy):
    line = _edit(content_copy, "templates/welcome.yaml", "block: product_grid", "block: product_gird")
    error = _error(content_copy, TemplateNotFound)
    assert isinstance(error, TemplateError), "check and the preview show it as a broken template file"
    assert error.filename.endswith("templates/welcome.yaml") and error.lineno == line
    assert "unknown block 'product_gird' (did you mean 'product_grid'?)" in str(error)
    assert "blocks: browse_items, cart_items, footer, header, hero" in str(error)


def _bundled_mjml() -> dict[str, str]:
    files = sorted((PROJECT_ROOT / "blocks").glob("*.mjml"))
    scaffold = PROJECT_ROOT / "renderer" / "devtools" / "scaffold"
    files += sorted(p for p in scaffold.rglob("*") if p.is_file() and "<mj-" in p.read_text(errors="replace"))
    return {str(p.relative_to(PROJECT_ROOT)): p.read_text() for p in files}


def test_every_tag_and_attribute_of_the_bundled_content_is_in_the_table():
    sources = _bundled_mjml()
    assert "blocks/_theme.mjml" in sources and "blocks/hero.mjml" in sources
    seen: set[str] = set()
    for name, source in sources.items():
        assert problems(source) == [], name
        seen |= {tag.name for tag in scan(source)}
    engine = Engine()
    for template in engine.template_names():
        document = engine.compiled(template).assembled.mjml
        assert problems(document) == [], template
        seen |= {tag.name for tag in scan(document)}
    assert {"mjml", "mj-head", "mj-body", "mj-attributes", "mj-all", "mj-class", "mj-section", "mj-column",
            "mj-text", "mj-image", "mj-button", "mj-raw", "mj-style"} <= seen, "the scan sees the tags"


def test_the_scan_skips_the_content_of_ending_tags_and_blanks_jinja():
    source = ('<mj-text padding="[[ pad ]]" align="{{ Dir }}"><mj-nonsense>html</mj-nonsense></mj-text>'
              '<mj-raw><mj-junk /></mj-raw><mj-style>.a > .b { }</mj-style>')
    assert [t.name for t in scan(source) if not t.closing] == ["mj-text", "mj-raw", "mj-style"]
    assert problems(source) == []


DOCUMENTS = {
    "good": '<mj-section css-class="a"><mj-column><mj-text mj-class="x" align="center">Hi</mj-text>'
            '<mj-image src="https://a.example/a.png" alt="" /></mj-column></mj-section>',
    "tag": "<mj-section><mj-column><mj-txet>Hi</mj-txet></mj-column></mj-section>",
    "attribute": '<mj-section><mj-column><mj-text colr="#000">Hi</mj-text></mj-column></mj-section>',
    "nesting": "<mj-section><mj-text>Hi</mj-text></mj-section>",
    "button": '<mj-section><mj-column><mj-button hrf="https://a.example">Go</mj-button></mj-column></mj-section>',
}


def test_javascript_mjml_finds_the_same_problems():
    node = node_executable()
    node_package_file("mjml", "package.json")
    documents = [f'<mjml><mj-head><mj-attributes><mj-class name="x" color="#111" /></mj-attributes></mj-head>'
                 f"<mj-body>{body}</mj-body></mjml>" for body in DOCUMENTS.values()]
    result = subprocess.run([node, str(NODE_DIR / "mjml.js")], input=json.dumps(documents), capture_output=True,
                            text=True, check=True, timeout=120)
    theirs = [entry["errors"] for entry in json.loads(result.stdout)]
    for (case, body), errors, document in zip(DOCUMENTS.items(), theirs, documents):
        ours = problems(document)
        assert bool(ours) == bool(errors), (case, ours, errors)
        assert len(ours) == len(errors), (case, ours, errors)
    assert "mj-txet" in theirs[1][0] and "colr" in theirs[2][0] and "inside" in theirs[3][0]


def test_the_table_knows_mjmls_core_elements():
    assert {"mj-text", "mj-section", "mj-column", "mj-hero", "mj-wrapper", "mj-navbar", "mj-social",
            "mj-accordion", "mj-carousel", "mj-html-attributes"} <= set(ELEMENTS)
    assert "inline" in ELEMENTS["mj-style"].attributes and ELEMENTS["mj-raw"].ending
