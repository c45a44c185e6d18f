from __future__ import annotations

import dataclasses
import io
import json
import marshal
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from renderer import Failed, RenderedEmail, RenderRequest, Skipped, render_many
from renderer.batch.job import last_complete_line
from renderer.batch.local import ordered_pool_map
from renderer.batch.spool import Spooled, append_spooled
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW

from conftest import INTERRUPTIBLE, PROJECT_ROOT
from batch_support import open_fifo_for_writing, read_records
from profiles import audience


def requests_with_problems(fixtures) -> list:
    requests = [RenderRequest("welcome", fixtures.profile(name), now=FIXTURE_NOW)
                for name in fixtures.profile_names()]
    requests.insert(1, RenderRequest("welcome", {"id": "no-email"}, now=FIXTURE_NOW))
    requests.insert(3, {"template": "welcome", "profile": {"id": "x", "email": "x@example.com"}, "colour": 1})
    requests.insert(4, RenderRequest("no_such_template", fixtures.profile("minimal"), now=FIXTURE_NOW))
    requests.append(RenderRequest("welcome", dict(fixtures.profile("minimal"), id="optout",
                                                  consent={"email_marketing": False}), now=FIXTURE_NOW))
    return requests


@pytest.mark.parametrize("workers,given_as", [(None, list), (2, list), (2, iter)])
def test_render_many_yields_one_result_per_request_in_order(engine, fixtures, workers, given_as):
    # A list is read by forked workers from shared memory; any other iterable is sent to them.
    requests = requests_with_problems(fixtures)
    results = list(render_many(given_as(requests), engine=engine, workers=workers, chunk_size=2))
    assert len(results) == len(requests)
    kinds = [type(r).__name__ for r in results]
    profiles = len(fixtures.profile_names())
    assert kinds.count("RenderedEmail") == profiles and kinds.count("Failed") == 3 and kinds.count("Skipped") == 1
    failed = [r for r in results if isinstance(r, Failed)]
    assert [(f.index, f.id) for f in failed] == [(1, "no-email"), (3, "x"), (4, "cust_min_0001")]
    assert failed[0].problems == [{"type": "missing", "loc": ("profile", "email"), "msg": "Field required",
                                   "input": None}]
    assert "unexpected keyword argument 'colour'" in failed[1].error
    assert "unknown template 'no_such_template'" in failed[2].error
    skipped = results[-1]
    assert isinstance(skipped, Skipped) and skipped.code == "no_consent" and skipped.id == "optout"
    emails = [r for r in results if isinstance(r, RenderedEmail)]
    assert [e.profile_id for e in emails] == [fixtures.profile(n)["id"] for n in fixtures.profile_names()]


def test_workers_render_exactly_what_the_engine_renders(engine, fixtures):
    requests = [RenderRequest(t, fixtures.profile(p), fixtures.recommendations(p), now=FIXTURE_NOW)
                for t in ("welcome", "win_back") for p in fixtures.profile_names()]
    serial = list(render_many(requests, engine=engine))
    parallel = list(render_many(requests, engine=engine, workers=2, chunk_size=3))
    streamed = list(render_many(iter(requests), engine=engine, workers=2, chunk_size=5))
    assert serial == parallel == streamed  # every field, traces and headers included
    assert all(isinstance(r, RenderedEmail) for r in serial)


def test_results_cross_between_processes_whole(engine, fixtures):
    # Workers send results as marshal records (and Dask pickles them): nothing may be lost either way.
    from renderer.batch.local import _unwire, _wire

    email = engine.render("welcome", profile=fixtures.profile("frequent_high_spender"),
                          recommendations=fixtures.recommendations("frequent_high_spender"), now=FIXTURE_NOW)
    assert email.trace.rules and email.trace.blocks and email.headers
    results = [email, Skipped("s1", 3, "no_consent", "no consent"),
               Failed("f1", 4, "bad", "InvalidInput", ["profile.email: Field required"])]
    for result in results:
        wired = _wire(result)
        assert _unwire(marshal.loads(wired[4:])) == result
        assert pickle.loads(pickle.dumps(result)) == result
    copied = pickle.loads(pickle.dumps(email))
    assert type(copied.trace.rules[0]).__name__ == "RuleTrace" and copied.trace.rules[0].segment
    # A value marshal cannot carry (here a str subclass in a warning) still crosses whole.
    from markupsafe import Markup

    odd = dataclasses.replace(email, warnings=[Markup("<b>odd</b>")])
    back = _unwire(marshal.loads(_wire(odd)[4:]))
    assert back == odd and type(back.warnings[0]) is Markup


def test_render_many_validates_its_options(engine):
    with pytest.raises(ValueError, match="workers"):
        list(render_many([], engine=engine, workers=0))


# --- worker deaths -------------------------------------------------------------------------

def _die_on(chunk, marker):
    for item in chunk:
        if item == "die-once" and not Path(marker).exists():
            Path(marker).write_text("died")
            os._exit(1)
        if item == "die-always":
            os._exit(1)
    return [f"ok:{item}" for item in chunk]


def _noop(*_):
    pass


def test_a_dead_worker_loses_nothing(tmp_path):
    items = [[f"a{i}"] for i in range(6)] + [["die-once"]] + [[f"b{i}"] for i in range(6)]
    out = list(ordered_pool_map(_die_on, items, workers=2, initializer=_noop, initargs=(),
                                on_lost=lambda chunk, why: [f"lost:{x}" for x in chunk],
                                args=(str(tmp_path / "marker"),)))
    assert out == [f"ok:{c[0]}" for c in items]


class KillingSource:
    """A recommendation source that kills its worker process for one profile."""

    def fetch(self, profile, limit):
        if profile.id == "killer":
            os._exit(1)
        return []


@pytest.mark.parametrize("given_as", [list, iter])
def test_a_request_that_kills_its_worker_becomes_a_failed_record(fixtures, given_as):
    from renderer import Engine

    engine = Engine(recommendations=KillingSource())
    profiles = [dict(fixtures.profile("minimal"), id=f"c{i}") for i in range(7)]
    profiles[4]["id"] = "killer"
    requests = [RenderRequest("recommendations", p, now=FIXTURE_NOW) for p in profiles]
    results = list(render_many(given_as(requests), engine=engine, workers=2, chunk_size=1))
    assert [type(r).__name__ for r in results] == ["RenderedEmail"] * 4 + ["Failed"] + ["RenderedEmail"] * 2
    assert results[4].id == "killer" and results[4].kind == "WorkerDied" and results[4].index == 4
    assert [r.profile_id for r in results if isinstance(r, RenderedEmail)] == [f"c{i}" for i in (0, 1, 2, 3, 5, 6)]
    # In bigger chunks the killer's chunk-mates are reported with it, never dropped.
    chunked = list(render_many(given_as(requests), engine=engine, workers=2, chunk_size=2))
    assert [type(r).__name__ for r in chunked] == ["RenderedEmail"] * 4 + ["Failed"] * 2 + ["RenderedEmail"]
    assert [r.id for r in chunked[4:6]] == ["killer", "c5"]


def test_a_chunk_that_kills_every_worker_is_reported_not_dropped(tmp_path):
    items = [["a"], ["die-always"], ["b"]]
    out = list(ordered_pool_map(_die_on, items, workers=2, initializer=_noop, initargs=(),
                                on_lost=lambda chunk, why: [f"lost:{x}:{why}" for x in chunk],
                                args=(str(tmp_path / "marker"),)))
    assert out == ["ok:a", "lost:die-always:a worker process died twice", "ok:b"]


# --- the batch command ----------------------------------------------------------------------


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_count_in_equals_count_out(tmp_path, capsys, workers):
    source = audience(tmp_path / "in.jsonl", 60, broken_lines={5: '{"id": "torn', 9: json.dumps({"id": "e", "email": "bad"})})
    out = tmp_path / "out.jsonl"
    code = main(["batch", "recommendations", "--profiles", str(source), "--out", str(out),
                 "--workers", workers, "--now", "2026-11-15T12:00:00Z",
                 "--recommendations", str(PROJECT_ROOT / "fixtures/recommendations/default.json")])
    assert code == 1, "a failed recipient makes the exit non-zero"
    records = read_records(out)
    assert [r["line"] for r in records] == list(range(1, 61))
    assert records[4]["status"] == "failed" and "line 5: not JSON" in records[4]["error"]
    assert records[8]["status"] == "failed" and records[8]["problems"] == [
        {"type": "value_error", "loc": ["profile", "email"], "msg": "not a valid email address", "input": "bad"}]
    rendered = [r for r in records if r["status"] == "rendered"]
    assert rendered and all(r["html"].startswith("<!doctype html>") and r["text"] for r in rendered)
    assert {r["status"] for r in records} <= {"rendered", "skipped", "failed"}
    summary = capsys.readouterr().out
    statuses = [r["status"] for r in records]
    assert (f"rendered {statuses.count('rendered')}, skipped {statuses.count('skipped')}, failed 2"
            in summary)
    assert not out.with_name("out.jsonl.partial").exists()


def test_batch_refuses_to_overwrite_without_restart(tmp_path, capsys):
    source = audience(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    args = ["batch", "welcome", "--profiles", str(source), "--out", str(out), "--now", "2026-11-15T12:00:00Z"]
    assert main(args) == 0
    assert main(args) == 2
    assert "already exists; pass --restart" in capsys.readouterr().err
    assert main(args + ["--restart"]) == 0


@pytest.mark.parametrize("how,workers", [(signal.SIGKILL, "1"), (signal.SIGINT, "2")])
def test_interrupted_run_resumes_without_loss_or_duplicates(tmp_path, how, workers):
    source = audience(tmp_path / "in.jsonl", 1500)
    command = [sys.executable, "-m", "renderer", "batch", "win_back",
               "--now", "2026-11-15T12:00:00Z", "--workers", workers,
               "--recommendations", str(PROJECT_ROOT / "fixtures/recommendations/default.json")]
    complete = tmp_path / "complete.jsonl"
    subprocess.run(command + ["--profiles", str(source), "--out", str(complete)], check=True, capture_output=True)

    # The interrupted run reads its first 1,000 lines from a pipe that stays open, so it is
    # still running, whatever the machine's load, when the signal comes.
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    process = subprocess.Popen([*INTERRUPTIBLE, *command[1:], "--profiles", str(fifo), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    fd = open_fifo_for_writing(fifo, process)
    try:
        os.write(fd, b"".join(source.read_bytes().splitlines(keepends=True)[:1000]))
        # Wait for the event (a complete record on disk), bounded generously.
        deadline = time.monotonic() + 300
        while (not partial.exists() or last_complete_line(partial)[0] == 0) and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.02)
        process.send_signal(how)
        try:
            _, err = process.communicate(timeout=300)  # a bound on a hang, not a measure
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"the batch did not stop on signal {how!r}")
    finally:
        os.close(fd)
    if how == signal.SIGINT:
        assert process.returncode == 130 and "run again with --resume" in err
    assert not out.exists() and partial.exists(), "killed before the end"
    done_before, _ = last_complete_line(partial)
    assert 0 < done_before <= 1000

    resumed = subprocess.run(command + ["--profiles", str(source), "--out", str(out), "--resume"],
                             capture_output=True, text=True)
    assert f"resumed after input line {done_before}" in resumed.stdout
    assert out.read_bytes() == complete.read_bytes()
    ids = [r["id"] for r in read_records(out)]
    assert len(ids) == 1500 == len(set(ids))


def test_last_complete_line_ignores_a_torn_record(tmp_path):
    partial = tmp_path / "x.partial"
    partial.write_bytes(b'{"line": 1}\n{"line": 2, "html": "abc"}\n{"line": 3, "ht')
    assert last_complete_line(partial) == (2, len(b'{"line": 1}\n{"line": 2, "html": "abc"}\n'))
    partial.write_bytes(b'{"line": 4')
    assert last_complete_line(partial) == (0, 0)


def test_batch_to_standard_output(tmp_path):
    source = audience(tmp_path / "in.jsonl", 5)
    done = subprocess.run([sys.executable, "-m", "renderer", "batch", "welcome", "--profiles", str(source),
                           "--out", "-", "--now", "2026-11-15T12:00:00Z"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    assert "rendered" in done.stderr and " -> -" in done.stderr


def test_workers_spool_files_reach_a_pipe_in_order_and_are_removed(tmp_path):
    # Workers write chunk files that the parent appends to its output with
    # sendfile; standard output here is a pipe, the hardest target for it.
    # 230 lines in chunks of 20 cycle the 4 spool slots three times over.
    source = audience(tmp_path / "in.jsonl", 230, broken_lines={7: "{not json"})
    spool_root = tmp_path / "spool"
    spool_root.mkdir()
    outputs = {}
    for workers in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "renderer", "batch", "welcome", "--profiles", str(source),
                               "--out", "-", "--workers", workers, "--chunk-size", "20",
                               "--now", "2026-11-15T12:00:00Z"],
                              capture_output=True, env={**os.environ, "RENDERER_SPOOL_DIR": str(spool_root)})
        assert done.returncode == 1, done.stderr  # line 7 failed
        outputs[workers] = done.stdout
    assert outputs["2"] == outputs["1"]
    assert [json.loads(line)["line"] for line in outputs["2"].splitlines()] == list(range(1, 231))
    assert list(spool_root.iterdir()) == [], "the spool folder is removed after the run"


def test_a_spool_slot_is_appended_up_to_its_size_to_any_writable_target(tmp_path):
    # A slot is rewritten in place, so it may hold an older, longer chunk's tail.
    slot = tmp_path / "slot-0.jsonl"
    slot.write_bytes(b'{"line": 2}\n{"line": 3}\n{"line": 99, "stale": true}\n')
    size = len(b'{"line": 2}\n{"line": 3}\n')
    # sendfile needs a real file descriptor; an in-memory target gets a plain copy.
    target = io.BytesIO(b'{"line": 1}\n')
    target.seek(0, io.SEEK_END)
    append_spooled(target, Spooled(str(slot), size, b""))
    assert target.getvalue() == b'{"line": 1}\n{"line": 2}\n{"line": 3}\n'
    on_disk = tmp_path / "out.jsonl"
    with on_disk.open("wb") as handle:
        handle.write(b'{"line": 1}\n')  # still in the buffer: must land first
        append_spooled(handle, Spooled(str(slot), size, b'{"line": 3.5}\n'))
        handle.write(b'{"line": 4}\n')
    assert on_disk.read_bytes() == b'{"line": 1}\n{"line": 2}\n{"line": 3}\n{"line": 3.5}\n{"line": 4}\n'


def test_a_broken_shared_recommendations_file_is_refused_before_any_render(tmp_path, capsys):
    source = audience(tmp_path / "in.jsonl", 3)
    recommendations = tmp_path / "recs.json"
    recommendations.write_text(json.dumps([{"id": "p1", "name": "Mug", "url": "https://x.example/p1",
                                            "price": -3}]))
    out = tmp_path / "out.jsonl"
    code = main(["batch", "recommendations", "--profiles", str(source), "--out", str(out),
                 "--recommendations", str(recommendations), "--now", "2026-11-15T12:00:00Z"])
    assert code == 2
    assert "0.price: Input should be greater than or equal to 0" in capsys.readouterr().err
    assert not out.exists() and not out.with_name("out.jsonl.partial").exists()


def test_on_a_terminal_the_progress_counts_against_the_files_lines(tmp_path):
    # Progress is drawn only on a terminal, and only there is the file read once more for its total:
    # standard error is a pseudo-terminal here, and what the bar drew is read from its other end.
    import pty

    source = audience(tmp_path / "in.jsonl", 120)
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "renderer", "batch", "welcome", "--profiles", str(source),
                                "--out", str(tmp_path / "out.jsonl"), "--now", "2026-11-15T12:00:00Z"],
                               stdout=subprocess.DEVNULL, stderr=follower, env={**os.environ, "TERM": "xterm",
                                                                                 "COLUMNS": "120"})
    os.close(follower)
    drawn = b""
    while True:  # until the process closes its end
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert process.wait() == 0
    assert b"rendering" in drawn and b"/120" in drawn, drawn[-500:]
