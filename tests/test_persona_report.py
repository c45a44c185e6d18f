from __future__ import annotations

from renderer.audience.fit.report import format_value, report_columns, report_rows, summary, write_chart
from renderer.audience.personas import load_personas


def test_rows_give_size_share_and_centre_in_original_units(planted_personas):
    spec = load_personas(planted_personas).spec
    columns = report_columns(spec)
    assert columns[:4] == ["persona", "segment", "profiles", "share"]
    assert "spend (USD)" in columns and "recency (days)" in columns
    rows = {row[0]: dict(zip(columns, row)) for row in report_rows(spec)}
    high = rows["Frequent High-Spenders"]
    assert high["segment"] == "persona:frequent_high_spenders"
    assert high["share"].endswith("%") and high["spend (USD)"].startswith("$")
    assert sum(int(row["profiles"].replace(",", "")) for row in rows.values()) == 900


def test_values_read_like_a_marketer_writes_them():
    assert format_value("monetary_usd", 1452.37) == "$1,452"
    assert format_value("frequency", 7.24) == "7.2"
    assert format_value("recency_days", 1234.4) == "1,234"
    assert format_value("engagement_score", 63.1) == "63"


def test_summary_states_the_silhouette(planted_personas):
    line = summary(load_personas(planted_personas).spec)
    assert line.startswith("900 profiles, 3 personas, silhouette 0.")
    assert "seed 0" in line


def test_chart_is_a_png(planted_personas, tmp_path):
    path = write_chart(load_personas(planted_personas).spec, tmp_path / "personas.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
