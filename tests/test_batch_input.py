"""No input line can stop a batch: every kind of unreadable line is one failed record with its line number."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from batch_support import open_fifo_for_writing, read_records
from profiles import audience

from renderer.base.jsonl import MAX_LINE_BYTES, LineError, loads_line, split_lines
from renderer.batch.job import last_complete_line
from renderer.cli.main import main

NOW = "2026-11-15T12:00:00Z"
DEEP = b'{"profile": ' + b"[" * 5000 + b"]" * 5000 + b"}"


def with_raw_cr(line: bytes) -> bytes:
    """The same JSON object with a carriage return (JSON whitespace) after every comma between members."""
    return line.replace(b',"', b',\r"')


def seeded(path, count=3000):
    """``count`` profile lines, with every kind of unreadable line at known places.

    Returns the file and {line number: expected problem type, or "cr" for a valid line holding raw CRs}.
    """
    audience(path, count)
    lines = path.read_bytes().split(b"\n")[:count]
    kinds = {7: "utf8_invalid", 50: "json_too_deep", 100: "cr", 101: "cr", 200: "line_too_long",
             300: "dict_type", 400: "json_invalid", 999: "json_too_deep", 1000: "utf8_invalid", count: "cr"}
    for number, kind in kinds.items():
        original = lines[number - 1]
        lines[number - 1] = {
            "utf8_invalid": original.replace(b'"email":"', b'"email":"\xff', 1),
            "json_too_deep": DEEP,
            "cr": with_raw_cr(original),
            "line_too_long": b'{"id": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}',
            "dict_type": b"[1, 2, 3]",
            "json_invalid": b'{"id": ',
        }[kind]
        assert lines[number - 1] != original
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, kinds


def test_split_lines_splits_on_newline_only_and_names_what_is_unreadable(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n{"b":\r 2}\r\n\xff\n' + b"y" * 40 + b"\nlast")
    with path.open("rb") as handle:
        lines = list(split_lines(handle, max_bytes=32))
    assert lines[:2] == ['{"a": 1}\n', '{"b":\r 2}\r\n']
    assert isinstance(lines[2], LineError) and lines[2].type == "utf8_invalid"
    assert str(lines[2]) == "not UTF-8 (byte 0xff at byte 1)"
    assert isinstance(lines[3], LineError) and lines[3].type == "line_too_long" and "(40 bytes)" in str(lines[3])
    assert lines[4] == "last" and len(lines) == 5
    assert loads_line(lines[1]) == {"b": 2}
    with pytest.raises(LineError) as deep:
        loads_line(DEEP.decode())
    assert deep.value.type == "json_too_deep"


def test_an_overlong_first_line_after_a_byte_order_mark_is_one_line(tmp_path):
    # The mark used to be cut from the first read of max_bytes + 1 bytes: a line just over the limit
    # then looked short enough, was read as a line, and its rest became a second line.
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"x" * 40 + b'\n{"a": 1}\n')
    with path.open("rb") as handle:
        lines = list(split_lines(handle, max_bytes=32))
    assert isinstance(lines[0], LineError) and lines[0].type == "line_too_long"
    assert lines[1:] == ['{"a": 1}\n']
    path.write_bytes(b"\xef\xbb\xbf" + b"x" * 32 + b"\nlast")
    with path.open("rb") as handle:
        assert list(split_lines(handle, max_bytes=32)) == ["x" * 32 + "\n", "last"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_kind_of_bad_line_is_one_failed_record_and_the_batch_goes_on(tmp_path, workers, capsys):
    source, kinds = seeded(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    assert main(["batch", "welcome", "--profiles", str(source), "--out", str(out), "--now", NOW,
                 "--workers", workers, "--transactional"]) == 1  # 1: some lines failed
    records = read_records(out)
    assert [r["line"] for r in records] == list(range(1, 3001))
    for number, kind in kinds.items():
        record = records[number - 1]
        if kind == "cr":
            assert record["status"] == "rendered", record
            assert record["id"]
            continue
        assert record["status"] == "failed", record
        assert record["error"].startswith(f"line {number}: "), record["error"]
        assert kind in {p["type"] for p in record["problems"]}, record["problems"]
    assert sum(r["status"] == "failed" for r in records) == len([k for k in kinds.values() if k != "cr"])
    assert "Traceback" not in capsys.readouterr().err


def test_a_cr_inside_a_line_renders_like_the_line_without_it(tmp_path, engine):
    source = audience(tmp_path / "in.jsonl", 3)
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(source.read_bytes())
    source.write_bytes(b"\n".join(with_raw_cr(line) for line in source.read_bytes().split(b"\n")))
    outputs = []
    for name, path in (("cr", source), ("plain", plain)):
        out = tmp_path / f"{name}.out.jsonl"
        assert main(["batch", "welcome", "--profiles", str(path), "--out", str(out), "--now", NOW,
                     "--transactional"]) == 0
        outputs.append(read_records(out))
    assert outputs[0] == outputs[1] and len(outputs[0]) == 3


def test_resume_after_a_kill_completes_a_file_with_bad_lines(tmp_path):
    source, _ = seeded(tmp_path / "in.jsonl", 1200)
    command = [sys.executable, "-m", "renderer", "batch", "welcome", "--now", NOW, "--workers", "2",
               "--transactional"]
    complete = tmp_path / "complete.jsonl"
    assert subprocess.run(command + ["--profiles", str(source), "--out", str(complete)]).returncode == 1

    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    out, partial = tmp_path / "out.jsonl", tmp_path / "out.jsonl.partial"
    errors = (tmp_path / "stderr.txt").open("w")  # a file: a pipe could be held open by a stray worker
    process = subprocess.Popen(command + ["--profiles", str(fifo), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=errors, text=True)
    fd = open_fifo_for_writing(fifo, process)
    try:
        os.write(fd, b"".join(source.read_bytes().split(b"\n")[i] + b"\n" for i in range(600)))
        deadline = time.monotonic() + 300
        while (not partial.exists() or last_complete_line(partial)[0] < 60) and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "stderr.txt").read_text()
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        os.close(fd)
        errors.close()
    assert not out.exists() and last_complete_line(partial)[0] >= 60
    resumed = subprocess.run(command + ["--profiles", str(source), "--out", str(out), "--resume"],
                             capture_output=True, text=True)
    assert resumed.returncode == 1 and "Traceback" not in resumed.stderr, resumed.stderr
    assert out.read_bytes() == complete.read_bytes()
    assert [r["line"] for r in read_records(out)] == list(range(1, 1201))


@pytest.mark.parametrize("command", [
    ["render", "welcome", "--profile", "{path}", "--now", NOW],
    ["segments", "{path}", "--now", NOW],
])
@pytest.mark.parametrize("content", [DEEP, b'{"id": "a\xff"}'], ids=["deep", "bad_utf8"])
def test_other_commands_name_the_file_and_print_no_traceback(tmp_path, command, content, capsys):
    path = tmp_path / "input.json"
    path.write_bytes(content + b"\n")
    status = main([part.replace("{path}", str(path)) for part in command])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if command[0] == "render":
        assert status == 2 and str(path) in err and ("nested too deeply" in err or "not UTF-8" in err), err
    else:
        assert status == 0 and "line 1:" in err and ("nested too deeply" in err or "not UTF-8" in err), err
