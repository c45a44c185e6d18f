from __future__ import annotations

import io
import json

from renderer.audience.report import segment_audience
from renderer.audience.segments import RuleSet
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PROJECT_ROOT

RULES = RuleSet.load(PROJECT_ROOT / "segments.yaml")


# The six profiles this test's counts were written for (the locale_* fixtures came later).
AUDIENCE = ["frequent_high_spender", "international", "lapsed", "minimal", "new_customer", "occasional_browser"]


def audience_lines(fixtures) -> list[str]:
    lines = [json.dumps(fixtures.profile(name), ensure_ascii=False) for name in AUDIENCE]
    lines.insert(2, '{"id": "broken"')                                   # line 3
    lines.insert(4, "")                                                    # line 5: blank, skipped
    lines.append(json.dumps({"id": "bad-email", "email": "nope"}))        # line 9
    lines.append(json.dumps({"id": "dup", "email": "ELENA.VASQUEZ@example.com"}))
    return [line + "\n" for line in lines]


def test_report_counts_segments_and_reports_bad_lines(fixtures):
    out = io.StringIO()
    report = segment_audience(audience_lines(fixtures), RULES, FIXTURE_NOW, out=out)
    assert report.total_lines == 10 and report.valid == 7 and report.invalid_count == 2
    assert [number for number, _ in report.invalid] == [3, 9]
    assert "line 9: email: not a valid email address" in report.invalid[1][1]
    assert report.counts["frequent_high_spender"] == 1 and report.counts["us_recent_buyer"] == 1
    assert report.samples["at_risk"] == ["cust_lap_0001"]
    assert report.unsegmented == 3  # international, minimal, the duplicate
    assert report.duplicates == [("elena.vasquez@example.com", "cust_fhs_0001", "dup")]
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 7
    elena = next(r for r in rows if r["id"] == "cust_fhs_0001")
    assert elena["primary"] == "frequent_high_spender"
    assert elena["features"]["rfm"]["recency_days"] == 12


def test_cli_segments_prints_a_table_and_writes_jsonl(fixtures, tmp_path, capsys):
    source = tmp_path / "audience.jsonl"
    source.write_text("".join(audience_lines(fixtures)), encoding="utf-8")
    out = tmp_path / "segments.jsonl"
    code = main(["segments", str(source), "--now", "2026-11-15T12:00:00Z", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "frequent_high_spender" in captured.out and "14.3%" in captured.out
    assert "7 profiles segmented, 2 invalid lines, 1 duplicate emails" in captured.out
    assert "line 3: not JSON" in captured.err and "line 9: email" in captured.err
    assert len(out.read_text().splitlines()) == 7


def test_cli_segments_with_a_broken_rules_file_exits_2(tmp_path, capsys):
    rules = tmp_path / "rules.yaml"
    rules.write_text("segments:\n  - name: x\n    when: rfm.nope > 1\n")
    source = tmp_path / "a.jsonl"
    source.write_text("")
    assert main(["segments", str(source), "--rules", str(rules)]) == 2
    assert "rules.yaml:2: segment 'x': unknown field 'rfm.nope'" in capsys.readouterr().err
