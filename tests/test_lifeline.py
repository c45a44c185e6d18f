"""renderer/batch/lifeline.py: a job's worker processes end when the job ends, however it ends."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from renderer.batch import lifeline
from renderer.batch.job import last_complete_line
from renderer.batch.local import ordered_pool_map

from conftest import PROJECT_ROOT
from profiles import audience

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2:].split()


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``: their start times, to tell them from a reused pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == pid:
            found[int(entry.name)] = fields[19]
    return found


def alive(processes: dict[int, str]) -> list[int]:
    """Those still running: present, with the same start time, and not a zombie waiting to be reaped."""
    return [pid for pid, started in processes.items()
            if (fields := _stat(pid)) and fields[19] == started and fields[0] != "Z"]


def open_fifo_for_writing(fifo: Path, reader: subprocess.Popen) -> int:
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            assert reader.poll() is None, "the batch ended before it read its input: " + reader.stderr.read()
            time.sleep(0.02)
            continue
        os.set_blocking(fd, True)
        return fd


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_the_workers_end_with_their_job_and_the_job_resumes(tmp_path, how):
    source = audience(tmp_path / "in.jsonl", 400)
    command = [sys.executable, "-m", "renderer", "batch", "welcome", "--now", "2026-11-15T12:00:00Z",
               "--workers", "2", "--chunk-size", "20",
               "--recommendations", str(PROJECT_ROOT / "fixtures/recommendations/default.json")]
    # The job reads its first 300 lines from a pipe that stays open, so it is still
    # running, whatever the machine's load, when the signal comes.
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    spool_root = tmp_path / "spool"
    spool_root.mkdir()
    job = subprocess.Popen(command + ["--profiles", str(fifo), "--out", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "RENDERER_SPOOL_DIR": str(spool_root)})
    fd = open_fifo_for_writing(fifo, job)
    workers: dict[int, str] = {}
    try:
        os.write(fd, b"".join(source.read_bytes().splitlines(keepends=True)[:300]))
        deadline = time.monotonic() + 300  # wait for the event: a complete record on disk
        while (not partial.exists() or last_complete_line(partial)[0] == 0) and time.monotonic() < deadline:
            assert job.poll() is None, job.stderr.read()
            time.sleep(0.02)
        workers = children(job.pid)
        assert len(workers) == 2, workers
        job.send_signal(how)
        job.wait(timeout=300)
        deadline = time.monotonic() + 5
        while alive(workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive(workers) == [], "workers outlived their job"
    finally:
        os.close(fd)
        for pid in alive(workers):  # only when the assertion above failed: leave no process behind
            os.kill(pid, signal.SIGKILL)
    # Only now: a worker left alive would hold the job's standard error open.
    err = job.stderr.read()
    if how == signal.SIGTERM:
        assert job.returncode == 143, err
        assert "terminated: partial output kept; run again with --resume" in err
        assert list(spool_root.iterdir()) == [], "a terminated job removes its spool folder"
    else:
        assert job.returncode == -signal.SIGKILL
    done_before, _ = last_complete_line(partial)
    assert 0 < done_before <= 300

    resumed = subprocess.run(command + ["--profiles", str(source), "--out", str(out), "--resume"],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed after input line {done_before}" in resumed.stdout
    lines = [json.loads(line)["line"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == list(range(1, 401))


def _same(chunk: list) -> list:
    return chunk


def _nothing() -> None:
    pass


def _a_job_that_waits(started) -> None:
    results = ordered_pool_map(_same, [[1], [2]], workers=2, initializer=_nothing, initargs=(),
                               on_lost=lambda chunk, why: chunk)
    next(results)
    started.set()
    threading.Event().wait()  # until killed


def test_without_prctl_the_workers_end_when_the_pipe_from_their_parent_closes(monkeypatch):
    # Where Linux's parent-death signal is not to be had, a pipe does it: this forces that path.
    monkeypatch.setattr(lifeline, "_kill_me_with_my_parent", lambda: False)
    context = multiprocessing.get_context("fork")
    started = context.Event()
    job = context.Process(target=_a_job_that_waits, args=(started,))
    job.start()
    workers: dict[int, str] = {}
    try:
        assert started.wait(timeout=300), "the job never got its first result"
        workers = children(job.pid)
        assert len(workers) == 2, workers
        os.kill(job.pid, signal.SIGKILL)
        while job.exitcode is None:  # reaped by waitpid: join() would wait for the workers too
            time.sleep(0.02)
        deadline = time.monotonic() + 5
        while alive(workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive(workers) == [], "workers outlived their job"
    finally:
        for pid in alive(workers) + ([job.pid] if job.is_alive() else []):
            os.kill(pid, signal.SIGKILL)
