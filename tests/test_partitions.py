from __future__ import annotations

from pathlib import Path

import pytest

from renderer.base.errors import RendererError
from renderer.batch.dask.partitions import (
    Partition,
    default_partitions,
    input_paths,
    plan,
    read_partitions,
    scan,
)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_input_paths_take_a_file_a_folder_or_a_glob(tmp_path):
    for name in ("b.jsonl", "a.jsonl", ".hidden.jsonl", "notes.txt"):
        write_lines(tmp_path / name, ["{}"])
    assert input_paths(tmp_path / "b.jsonl") == [tmp_path / "b.jsonl"]
    assert input_paths(tmp_path) == [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    assert input_paths(str(tmp_path / "*.txt")) == [tmp_path / "notes.txt"]
    with pytest.raises(RendererError, match="no such file"):
        input_paths(tmp_path / "missing-*.jsonl")
    with pytest.raises(RendererError, match="no \\*.jsonl"):
        input_paths((tmp_path / "empty").mkdir() or tmp_path / "empty")


def test_scan_counts_lines_and_records(tmp_path):
    scanned = scan(write_lines(tmp_path / "in.jsonl", ["{}", "", "  ", "{}"]))
    assert (scanned.lines, scanned.records) == (4, 2)
    assert scan(write_lines(tmp_path / "same.jsonl", ["{}", "", "  ", "{}"])).sha256 == scanned.sha256


def test_plan_splits_files_by_line_ranges_never_across_files(tmp_path):
    big = scan(write_lines(tmp_path / "big.jsonl", ["{}"] * 30))
    small = scan(write_lines(tmp_path / "small.jsonl", ["{}"] * 3))
    empty = scan(write_lines(tmp_path / "empty.jsonl", []))
    parts = plan([big, empty, small], 4)
    assert [(p.input.name, p.first_line, p.last_line) for p in parts] == [
        ("big.jsonl", 1, 10), ("big.jsonl", 11, 20), ("big.jsonl", 21, 30), ("small.jsonl", 1, 3)]
    assert [p.index for p in parts] == [0, 1, 2, 3]
    assert parts[3].part_name == "part-00003.jsonl"
    with pytest.raises(ValueError, match="at least 1"):
        plan([big], 0)


def test_default_partitions():
    assert default_partitions(3) == 3
    assert default_partitions(100) == 8
    assert default_partitions(100_000) == 200


def test_read_partitions_yields_each_range_once_and_skips_blank_lines(tmp_path):
    source = write_lines(tmp_path / "in.jsonl", ['{"n": 1}', "", '{"n": 3}', '{"n": 4}', '{"n": 5}'])
    recs = write_lines(tmp_path / "recs.jsonl", ["[1]", "[2]", "", "[4]"])
    parts = [Partition(0, source, 1, 2), Partition(1, source, 3, 4), Partition(2, source, 5, 5)]
    read = list(read_partitions(parts, recs, skip={1}))
    assert [(p.index, lines) for p, lines in read] == [
        (0, [(1, '{"n": 1}', "[1]")]),
        (2, [(5, '{"n": 5}', "null")]),
    ]
    assert [lines for _, lines in read_partitions(parts[1:2])] == [[(3, '{"n": 3}', None), (4, '{"n": 4}', None)]]
