"""`renderer check`: clean on the bundled content; every rule found on a seeded template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from renderer import Engine
from renderer.api import check
from renderer.cli.main import main
from renderer.devtools.check_rules import ERROR, WARNING

from conftest import PROJECT_ROOT

SEEDED = """\
description: One instance of each problem the check looks for.
subject: ""
blocks:
  - block: header
  - block: text
    show_if: "'nobody' in Segments"
    params:
      body: "<p>Never shown.</p>"
  - block: text
    params:
      heading: "Hello from {{ CustomerCity }}"
      body: >-
        <p>Read <a href="http://fernhill.example/insecure">the guide</a>.</p>
        <p><img src="https://cdn.fernhill.example/seeded.png"></p>
        <table><tr><td>A table for layout</td></tr></table>
"""

LONG = """\
description: Subject and preheader too long.
subject: "{{ FirstName }}, this subject line goes on and on well past what any inbox will ever show"
preheader: "%s"
blocks:
  - block: header
  - block: footer
""" % ("A preheader that keeps going " * 6).strip()

TOKEN = """\
subject: "Hi {{ FirstName }}"
preheader: "A preheader long enough to fill the inbox preview line."
blocks:
  - block: text
    params:
      body: "<p>Your code is {{ CouponCode }}</p>"
  - block: footer
"""


def _big(kilobytes: int) -> str:
    paragraph = "<p>" + "Fernhill makes well-made things for the kitchen and home. " * 15 + "</p>"
    count = kilobytes * 1024 // len(paragraph) + 1
    return ('subject: "Hi {{ FirstName }}"\npreheader: "A preheader long enough to fill the inbox preview."\n'
            "blocks:\n  - block: text\n    params:\n      body: " + json.dumps(paragraph * count) +
            "\n  - block: footer\n")


def _content(root: Path) -> Path:
    for folder in ("templates", "blocks", "locales", "fixtures"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    return root


def _engine(root: Path) -> Engine:
    return Engine(templates_dir=root / "templates", blocks_dir=root / "blocks", segments_file=PROJECT_ROOT / "segments.yaml")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    root = _content(tmp_path_factory.mktemp("seeded"))
    (root / "templates" / "seeded.yaml").write_text(SEEDED)
    (root / "templates" / "seeded_long.yaml").write_text(LONG)
    (root / "templates" / "seeded_token.yaml").write_text(TOKEN)
    (root / "templates" / "seeded_big.yaml").write_text(_big(104))
    (root / "templates" / "seeded_large.yaml").write_text(_big(80))
    report = check(["seeded", "seeded_long", "seeded_token", "seeded_big", "seeded_large"], engine=_engine(root))
    return root, report


def _found(report, rule, template="seeded"):
    found = [f for f in report.findings if f.rule == rule and f.template == template]
    assert found, f"no {rule} finding for {template}: {report.to_text()}"
    return found


def _line_of(root: Path, relative: str, text: str) -> int:
    return next(n for n, line in enumerate((root / relative).read_text().splitlines(), 1) if text in line)


def test_the_bundled_content_passes(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("0 errors, 0 warnings in 6 templates")


def test_unknown_token_is_an_error_with_file_and_line(seeded):
    root, report = seeded
    finding = _found(report, "unknown-token", "seeded_token")[0]
    assert finding.severity == ERROR and "CouponCode" in finding.message
    # Typed in the template's parameter, so told there, not in the block that prints it.
    assert finding.file.endswith("templates/seeded_token.yaml")
    assert finding.line == _line_of(root, "templates/seeded_token.yaml", "CouponCode")


def test_a_misspelled_mjml_tag_is_an_error_with_file_and_line(tmp_path, capsys):
    root = _content(tmp_path)
    hero = root / "blocks" / "hero.mjml"
    hero.write_text(hero.read_text().replace('<mj-text align="center"', '<mj-txet align="center"', 1))
    line = _line_of(root, "blocks/hero.mjml", "<mj-txet")
    report = check(["welcome"], engine=_engine(root))
    [finding] = [f for f in report.findings if f.severity == ERROR]
    assert finding.file.endswith("blocks/hero.mjml") and finding.line == line
    assert "did you mean <mj-text>?" in finding.message
    assert f"blocks/hero.mjml:{line}: error: welcome: unknown MJML tag <mj-txet>" in report.to_text()


def test_token_printed_empty_without_fallback_is_a_warning_with_its_line(seeded):
    root, report = seeded
    finding = _found(report, "empty-token")[0]
    assert finding.severity == WARNING and "CustomerCity" in finding.message
    assert finding.file.endswith("templates/seeded.yaml")
    assert finding.line == _line_of(root, "templates/seeded.yaml", "{{ CustomerCity }}")
    assert "minimal" in finding.fixtures


def test_show_if_no_fixture_exercises_is_reported_on_the_block_entry(seeded):
    root, report = seeded
    finding = _found(report, "show-if-unexercised")[0]
    assert "'nobody' in Segments" in finding.message and "no fixture shows it" in finding.message
    assert finding.file.endswith("templates/seeded.yaml")
    assert finding.line == _line_of(root, "templates/seeded.yaml", "  - block: text")


def test_image_without_alt_is_reported(seeded):
    root, report = seeded
    finding = _found(report, "image-alt")[0]
    assert "seeded.png" in finding.message and finding.file.endswith("templates/seeded.yaml")


def test_image_without_width_is_reported(seeded):
    _, report = seeded
    finding = _found(report, "image-width")[0]
    assert "seeded.png" in finding.message and finding.severity == WARNING


def test_link_that_is_not_https_is_an_error_with_its_line(seeded):
    root, report = seeded
    finding = _found(report, "link-scheme")[0]
    assert finding.severity == ERROR and "http://fernhill.example/insecure" in finding.message
    assert finding.line == _line_of(root, "templates/seeded.yaml", "http://fernhill.example/insecure")


def test_missing_unsubscribe_link_is_an_error(seeded):
    _, report = seeded
    assert _found(report, "unsubscribe")[0].severity == ERROR
    assert not [f for f in report.findings if f.rule == "unsubscribe" and f.template == "seeded_long"]


def test_html_over_102_kb_is_an_error_and_over_90_kb_a_warning_with_the_size(seeded):
    _, report = seeded
    big = _found(report, "html-size", "seeded_big")[0]
    assert big.severity == ERROR and " KB (" in big.message and "bytes" in big.message
    large = _found(report, "html-size", "seeded_large")[0]
    assert large.severity == WARNING and "close to" in large.message


def test_missing_preheader_and_over_long_preheader_are_reported(seeded):
    _, report = seeded
    assert "no preheader" in _found(report, "preheader")[0].message
    assert "characters" in _found(report, "preheader", "seeded_long")[0].message


def test_empty_subject_is_an_error_and_a_long_one_a_warning(seeded):
    _, report = seeded
    empty = _found(report, "subject")[0]
    assert empty.severity == ERROR and "empty" in empty.message
    long = _found(report, "subject", "seeded_long")[0]
    assert long.severity == WARNING and "characters" in long.message


def test_layout_table_without_role_presentation_is_reported(seeded):
    root, report = seeded
    finding = _found(report, "table-role")[0]
    assert finding.severity == WARNING and finding.file.endswith("templates/seeded.yaml")


def test_missing_lang_on_html_is_an_error(tmp_path):
    root = _content(tmp_path)
    (root / "blocks" / "_layout.mjml").write_text(
        "<mjml>\n<mj-head>\n[[ theme ]]\n<mj-preview>{{ Preheader }}</mj-preview>\n</mj-head>\n"
        '<mj-body width="[[ width ]]">\n[[ body ]]\n</mj-body>\n</mjml>\n')
    report = check(["welcome"], engine=_engine(root))
    finding = _found(report, "html-lang", "welcome")[0]
    assert finding.severity == ERROR and finding.file.endswith("blocks/_layout.mjml") and finding.line == 1


def test_check_exits_non_zero_on_errors_and_speaks_json(seeded, capsys):
    root, _ = seeded
    code = main(["--templates", str(root / "templates"), "--blocks", str(root / "blocks"),
                 "check", "seeded", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["ok"] is False and data["errors"] >= 3
    assert {f["rule"] for f in data["findings"]} >= {"subject", "unsubscribe", "link-scheme", "image-alt"}


def test_a_cart_in_another_currency_than_the_recommendations_is_a_warning(tmp_path):
    root = _content(tmp_path)
    # Her cart falls back to the shared one, in USD, beside her recommendations in EGP.
    shutil.rmtree(root / "fixtures" / "events" / "locale_ar", ignore_errors=True)
    report = check(["abandoned_cart"], engine=_engine(root))
    found = _found(report, "currency", "abandoned_cart")
    assert found[0].severity == WARNING and "locale_ar" in found[0].fixtures
    assert "USD (cart)" in found[0].message and "EGP (recommendations)" in found[0].message


def test_the_bundled_fixtures_price_each_email_in_one_currency():
    report = check(["abandoned_cart", "browse_abandonment"])
    assert not [f for f in report.findings if f.rule == "currency"], report.to_text()
