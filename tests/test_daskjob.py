"""renderer batch --engine dask on a real LocalCluster (2 worker processes on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from renderer import Engine
from renderer.base.errors import BatchStateError, RendererError
from renderer.batch.dask.job import run_dask_batch
from renderer.batch.dask.manifest import Manifest
from renderer.batch.job import JobSpec
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PROJECT_ROOT
from profiles import audience

NOW = "2026-11-15T12:00:00Z"
RECOMMENDATIONS = str(PROJECT_ROOT / "fixtures/recommendations/default.json")
SPEC = JobSpec(template="recommendations", now=FIXTURE_NOW,
               shared_recommendations=json.loads(Path(RECOMMENDATIONS).read_text()))

# One Dask cluster at a time on two cores: these tests share one test process.
pytestmark = pytest.mark.xdist_group("dask")



def parts_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.jsonl"))


def records_of(folder: Path) -> list[dict]:
    return [json.loads(line) for part in parts_of(folder) for line in part.read_text(encoding="utf-8").splitlines()]


def local_records(engine: Engine, source: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "local.jsonl"
    assert main(["batch", "recommendations", "--profiles", str(source), "--out", str(out), "--now", NOW,
                 "--recommendations", RECOMMENDATIONS]) in (0, 1)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_the_embedded_cluster_writes_what_the_local_engine_writes(engine, tmp_path, capsys):
    source = audience(tmp_path / "in.jsonl", 90, broken_lines={5: '{"id": "torn',
                                                               9: json.dumps({"id": "e", "email": "bad"}),
                                                               30: ""})
    expected = local_records(engine, source, tmp_path)
    out = tmp_path / "out"
    code = main(["batch", "recommendations", "--profiles", str(source), "--out", str(out), "--now", NOW,
                 "--recommendations", RECOMMENDATIONS, "--engine", "dask", "--workers", "2", "--partitions", "5"])
    assert code == 1, "a failed recipient makes the exit non-zero"
    records = records_of(out)
    assert records == expected
    assert len(records) == 89, "count in (non-blank lines) == count out"
    assert [r["line"] for r in records] == [n for n in range(1, 91) if n != 30]
    assert records[4]["status"] == "failed" and "line 5: not JSON" in records[4]["error"]
    manifest = Manifest.load(out)
    assert manifest.complete and len(parts_of(out)) == 5 == manifest.partitions
    assert sum(e.rendered + e.skipped + e.failed for e in manifest.parts.values()) == 89
    assert [(e.first_line, e.last_line) for e in manifest.parts.values()] == [
        (1, 18), (19, 36), (37, 54), (55, 72), (73, 90)]
    assert all(e.input == str(source.resolve()) for e in manifest.parts.values())
    statuses = [r["status"] for r in records]
    assert (f"rendered {statuses.count('rendered')}, skipped {statuses.count('skipped')}, failed 2"
            in capsys.readouterr().out)


def test_a_killed_worker_loses_no_recipient_and_duplicates_none(engine, tmp_path, dask_client):
    source = audience(tmp_path / "in.jsonl", 360)
    expected = local_records(engine, source, tmp_path)
    pids_before = set(dask_client.run(os.getpid).values())
    killed: list[tuple[int, int]] = []

    def kill_a_busy_worker(entry, summary) -> None:
        if killed:
            return
        busy = [address for address, keys in dask_client.processing().items() if keys]
        if not busy:
            return  # between two tasks: try again when the next partition is done
        pid = dask_client.run(os.getpid, workers=busy[:1])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed.append((pid, summary.partitions_rendered))

    out = tmp_path / "out"
    summary = run_dask_batch(engine, SPEC, source, out, scheduler=dask_client.scheduler.address, partitions=12,
                             on_partition=kill_a_busy_worker)
    assert killed and killed[0][1] < 12, "the worker died mid-job"
    records = records_of(out)
    assert records == expected
    ids = [r["id"] for r in records]
    assert len(ids) == 360 == len(set(ids))
    assert summary.lost == 0 and summary.partitions_rendered == 12 and Manifest.load(out).complete
    dask_client.wait_for_workers(2, timeout=60)
    pids_after = set(dask_client.run(os.getpid).values())
    assert killed[0][0] in pids_before and killed[0][0] not in pids_after, "a new process replaced it"


def test_a_rerun_renders_only_missing_damaged_or_unlisted_partitions(engine, tmp_path, dask_client):
    source = audience(tmp_path / "in.jsonl", 80)
    out = tmp_path / "out"
    address = dask_client.scheduler.address
    first = run_dask_batch(engine, SPEC, source, out, scheduler=address, partitions=8, shared_out=True)
    assert first.partitions_rendered == 8
    complete = records_of(out)
    stamps = {p.name: p.stat().st_mtime_ns for p in parts_of(out)}

    (out / "part-00003.jsonl").unlink()
    again = run_dask_batch(engine, SPEC, source, out, scheduler=address)
    assert (again.partitions_rendered, again.partitions_kept) == (1, 7)
    changed = [p.name for p in parts_of(out) if p.stat().st_mtime_ns != stamps[p.name]]
    assert changed == ["part-00003.jsonl"]
    assert records_of(out) == complete and Manifest.load(out).complete
    assert again.total == first.total == 80

    damaged = out / "part-00005.jsonl"
    damaged.write_bytes(damaged.read_bytes()[:-100])
    manifest = Manifest.load(out)
    del manifest.parts[6]
    manifest.save(out)
    fixed = run_dask_batch(engine, SPEC, source, out, scheduler=address)
    assert fixed.partitions_rendered == 2
    assert records_of(out) == complete

    nothing = run_dask_batch(engine, SPEC, source, out, scheduler="tcp://127.0.0.1:1")
    assert nothing.partitions_rendered == 0, "a complete folder needs no cluster at all"


def test_a_content_hash_mismatch_is_refused(tmp_path, dask_client, monkeypatch, capsys):
    source = audience(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out"
    # The client plans the job with another version of the content than the workers hold.
    monkeypatch.setattr(Engine, "content_hash", lambda self: "f" * 64)
    code = main(["batch", "welcome", "--profiles", str(source), "--out", str(out), "--now", NOW,
                 "--engine", "dask", "--scheduler", dask_client.scheduler.address])
    assert code == 2
    error = capsys.readouterr().err
    assert "refuses the job: its content hash is" in error and "the job's is ffffffffffff" in error
    assert parts_of(out) == [], "nothing rendered from a mix of versions"


def test_another_job_in_the_folder_is_refused_unless_restarted(engine, tmp_path, dask_client):
    source = audience(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out"
    address = dask_client.scheduler.address
    run_dask_batch(engine, SPEC, source, out, scheduler=address, partitions=2)
    with pytest.raises(BatchStateError, match="holds another job \\(its partitions differ\\); pass --restart"):
        run_dask_batch(engine, SPEC, source, out, scheduler=address, partitions=3)
    other = JobSpec(template="welcome", now=FIXTURE_NOW)
    with pytest.raises(BatchStateError, match="its recommendations, template differ"):
        run_dask_batch(engine, other, source, out, scheduler=address)
    restarted = run_dask_batch(engine, other, source, out, scheduler=address, restart=True)
    assert restarted.partitions_rendered == len(parts_of(out)) == Manifest.load(out).partitions


def test_a_folder_of_part_files_and_a_glob(engine, tmp_path, dask_client):
    folder = tmp_path / "audience"
    folder.mkdir()
    audience(folder / "a.jsonl", 12, seed=1)
    audience(folder / "b.jsonl", 7, seed=2)
    (folder / "notes.txt").write_text("not input")
    spec = JobSpec(template="welcome", now=FIXTURE_NOW)
    address = dask_client.scheduler.address
    summary = run_dask_batch(engine, spec, folder, tmp_path / "out", scheduler=address, partitions=3)
    assert summary.total == 19
    manifest = Manifest.load(tmp_path / "out")
    assert [(Path(e.input).name, e.first_line, e.last_line) for e in manifest.parts.values()] == [
        ("a.jsonl", 1, 6), ("a.jsonl", 7, 12), ("b.jsonl", 1, 7)]
    by_glob = run_dask_batch(engine, spec, str(folder / "*.jsonl"), tmp_path / "glob", scheduler=address,
                             partitions=3)
    assert records_of(tmp_path / "glob") == records_of(tmp_path / "out") and by_glob.total == 19


def test_cli_refuses_options_that_do_not_fit(tmp_path, capsys):
    source = audience(tmp_path / "in.jsonl", 2)
    base = ["batch", "welcome", "--profiles", str(source), "--now", NOW]
    assert main(base + ["--out", str(tmp_path / "x.jsonl"), "--partitions", "4"]) == 2
    assert "need --engine dask" in capsys.readouterr().err
    assert main(base + ["--out", "-", "--engine", "dask"]) == 2
    assert "give --out FOLDER" in capsys.readouterr().err


def test_a_rerun_without_a_clock_keeps_the_first_runs_clock(engine, tmp_path, dask_client):
    source = audience(tmp_path / "in.jsonl", 30)
    out = tmp_path / "out"
    address = dask_client.scheduler.address
    unclocked = JobSpec(template="win_back", now=None)
    run_dask_batch(engine, unclocked, source, out, scheduler=address, partitions=3)
    first = records_of(out)
    clock = Manifest.load(out).job["now"]
    (out / "part-00001.jsonl").unlink()
    again = run_dask_batch(engine, unclocked, source, out, scheduler=address)
    assert again.partitions_rendered == 1 and Manifest.load(out).job["now"] == clock
    assert records_of(out) == first, "the re-rendered partition used the first run's clock"


def test_per_line_recommendations_need_a_single_input(engine, tmp_path, dask_client):
    folder = tmp_path / "audience"
    folder.mkdir()
    audience(folder / "a.jsonl", 3, seed=1)
    audience(folder / "b.jsonl", 3, seed=2)
    recs = tmp_path / "recs.jsonl"
    recs.write_text("[]\n" * 3, encoding="utf-8")
    with pytest.raises(RendererError, match="single input file"):
        run_dask_batch(engine, SPEC, folder, tmp_path / "out", scheduler=dask_client.scheduler.address,
                       recommendations_lines=recs)


def test_a_scheduler_and_workers_started_with_dask_s_own_commands(engine, tmp_path):
    """The several-machines recipe of docs/scaling.md, on 127.0.0.1: `dask scheduler` and `dask worker`."""
    import socket
    import subprocess
    import sys

    source = audience(tmp_path / "in.jsonl", 40)
    expected = local_records(engine, source, tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [str(Path(sys.executable).with_name("dask"))]  # the venv's `dask` command
    started = [subprocess.Popen(dask + ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        started.append(subprocess.Popen(dask + ["worker", address, "--host", "127.0.0.1", "--nworkers", "2",
                                                "--nthreads", "1", "--no-dashboard"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        out = tmp_path / "out"
        code = main(["batch", "recommendations", "--profiles", str(source), "--out", str(out), "--now", NOW,
                     "--recommendations", RECOMMENDATIONS, "--engine", "dask", "--scheduler", address])
        assert code == 0
        assert records_of(out) == expected and Manifest.load(out).complete
    finally:
        for process in reversed(started):
            process.terminate()
        for process in reversed(started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
