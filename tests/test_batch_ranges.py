"""Workers read their chunks of a batch's input themselves: the parent hands over byte offsets, not lines.

What they read must be what the parent's own reading gives (``numbered_lines``),
line for line, with every kind of line the input can hold, so a batch's output
is the same with one worker or two, and a resumed run continues where it stopped.
"""

from __future__ import annotations

import io
import itertools
import json
import random

import pytest

from renderer import Engine
from renderer.base.jsonl import LineStarts, split_lines
from renderer.batch.job import JobSpec, line_ranges, numbered_lines, run_batch
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet
from renderer.devtools.synthetic import generate_profiles


@pytest.mark.parametrize("seed", range(40))
def test_line_starts_let_a_reader_begin_at_any_chunk_and_read_what_a_reader_from_the_start_reads(seed, monkeypatch):
    rnd = random.Random(seed)
    monkeypatch.setattr(LineStarts, "BLOCK", rnd.choice([1, 3, 16, 4096]))
    lines = [rnd.choice([b"", b"{}", b"\xef\xbb\xbf{}", b"\r", b"x" * 5000, b"\xff\xfe", '{"a": "ü"}'.encode()])
             for _ in range(rnd.randint(0, 30))]
    data = b"\xef\xbb\xbf" * rnd.randint(0, 1) + b"\n".join(lines) + b"\n" * rnd.randint(0, 2)
    every = rnd.randint(1, 6)
    starts = LineStarts(io.BytesIO(data))
    offsets = [0]
    while not starts.at_end:
        offsets.append(starts.advance(every))
    if starts.offset == len(data) and len(offsets) > 1:
        offsets.pop()  # the end of the file is no chunk's start
    pieces = []
    for offset in offsets:
        handle = io.BytesIO(data)
        handle.seek(offset)
        pieces += itertools.islice(split_lines(handle, max_bytes=1000, from_start=offset == 0), every)
    whole = list(split_lines(io.BytesIO(data), max_bytes=1000))
    assert [str(x) for x in pieces] == [str(x) for x in whole]


def _inputs(tmp_path):
    """A profiles file with a byte order mark, blank and CRLF lines and a bad one, and a shorter
    recommendations file with a blank line and a bad one: what the ranges must number alike."""
    products = FixtureSet.default().recommendations("default")
    lines = [json.dumps(p, default=str).encode() for p in generate_profiles(60, seed=3, now=FIXTURE_NOW)]
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    lines[10:10] = [b"", b"   "]
    lines[20] = lines[20] + b"\r"
    lines[30] = b'{"id": '
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_bytes(b"\n".join(lines) + b"\n")
    recs = [json.dumps({"products": products[: 1 + i % 4]}).encode() for i in range(50)]
    recs[5], recs[6] = b"", b"[1,"
    recommendations = tmp_path / "recs.jsonl"
    recommendations.write_bytes(b"\xef\xbb\xbf" + b"\n".join(recs))
    return profiles, recommendations


@pytest.mark.parametrize("start_after", [0, 1, 11, 45, 62, 70])
def test_line_ranges_give_the_lines_numbered_lines_gives(tmp_path, start_after):
    profiles, recommendations = _inputs(tmp_path)
    for recs in (None, recommendations):
        expected = list(numbered_lines(profiles, start_after, recs))
        for size in (1, 7, 100):
            got = [line for piece in line_ranges(profiles, start_after, recs, size) for line in piece.lines()]
            assert [(n, str(t), str(r)) for n, t, r in got] == [(n, str(t), str(r)) for n, t, r in expected]
    assert start_after >= 62 or expected


def test_two_workers_write_what_one_writes_and_a_resumed_run_completes_it(tmp_path):
    profiles, recommendations = _inputs(tmp_path)
    engine = Engine(auto_reload=False)
    spec = JobSpec(template="recommendations", now=FIXTURE_NOW, transactional=True)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch(engine, spec, profiles, one, workers=1, recommendations_lines=recommendations, chunk_size=7)
    run_batch(engine, spec, profiles, two, workers=2, recommendations_lines=recommendations, chunk_size=7)
    assert two.read_bytes() == one.read_bytes()
    records = [json.loads(line) for line in one.read_text().splitlines()]
    assert [r["line"] for r in records] == [n for n in range(1, 63) if n not in (11, 12)]
    assert {r["status"] for r in records} == {"rendered", "failed"}
    # Stopped after the record of line 40: the resumed run starts its ranges there.
    kept = b"".join(line + b"\n" for line in one.read_bytes().splitlines() if json.loads(line)["line"] <= 40)
    resumed = tmp_path / "resumed.jsonl"
    resumed.with_name("resumed.jsonl.partial").write_bytes(kept)
    summary = run_batch(engine, spec, profiles, resumed, workers=2, recommendations_lines=recommendations,
                        resume=True, chunk_size=7)
    assert summary.resumed_after_line == 40
    assert resumed.read_bytes() == one.read_bytes()
