"""The worker side, called directly in this process (no cluster needed)."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import pytest

from renderer import Engine
from renderer.base.errors import ContentMismatch
from renderer.batch.dask.worker import (
    WorkerJob,
    code_fingerprint,
    lost_lines,
    render_part,
    render_requests,
    worker_engine,
)
from renderer.batch.job import JobSpec, render_line
from renderer.content.fixtures import FIXTURE_NOW


def test_content_hash_follows_the_content_not_its_location(content_copy, tmp_path_factory):
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    before = engine.content_hash()
    import shutil

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    for folder in ("templates", "blocks", "locales"):
        shutil.copytree(content_copy / folder, elsewhere / folder)
    moved = Engine(templates_dir=elsewhere / "templates", blocks_dir=elsewhere / "blocks")
    assert moved.content_hash() == before
    (content_copy / "blocks" / "footer.mjml").write_text("<mj-section></mj-section>\n", encoding="utf-8")
    assert engine.content_hash() != before


def test_content_hash_covers_the_translations(content_copy):
    # A worker with other translations renders other emails: its hash must differ.
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    before = engine.content_hash()
    german = content_copy / "locales" / "de.yaml"
    german.write_text(german.read_text(encoding="utf-8").replace("Warenkorb", "Einkaufswagen"), encoding="utf-8")
    assert engine.content_hash() != before


def test_a_worker_keeps_one_engine_per_job_and_compiles_once(content_copy):
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    job = WorkerJob.for_engine(engine)
    first = worker_engine(job, {"welcome"})
    assert worker_engine(job, {"welcome", "win_back"}) is first
    assert first.auto_reload is False, "a held engine never picks up an edit"


def test_a_worker_refuses_other_content_and_other_code(content_copy):
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    job = WorkerJob.for_engine(engine)
    spec = JobSpec(template="welcome", now=FIXTURE_NOW)
    stale = replace(job, key="another-version", content_hash="0" * 64)
    with pytest.raises(ContentMismatch, match="its content hash is .* the job's is 000000000000") as error:
        render_part(stale, spec, None, ("part-00000.jsonl", [(1, '{"id": "a", "email": "a@example.com"}', None)]))
    assert pickle.loads(pickle.dumps(error.value)).found == job.content_hash
    with pytest.raises(ContentMismatch, match="its code hash"):
        render_requests(replace(job, code_hash="1" * 64), True, [])
    # An edit made after the job was planned is refused too, even for a worker that held the job's engine.
    worker_engine(job, {"welcome"})
    (content_copy / "templates" / "win_back.yaml").write_text(
        (content_copy / "templates" / "win_back.yaml").read_text() + "\n# edited\n", encoding="utf-8")
    with pytest.raises(ContentMismatch):
        worker_engine(job, {"win_back"})
    assert code_fingerprint() == job.code_hash


def test_render_part_gives_the_local_lines_and_counts(engine, tmp_path):
    spec = JobSpec(template="welcome", now=FIXTURE_NOW)
    lines = [(1, json.dumps({"id": "a", "email": "a@example.com"}), None), (2, "{torn", None),
             (4, json.dumps({"id": "b", "email": "b@example.com", "consent": {"email_marketing": False}}), None)]
    job = WorkerJob.for_engine(engine)
    part = render_part(job, spec, None, ("part-00007.jsonl", lines))
    expected = b"".join(render_line(engine, spec, n, text, recs) for n, text, recs in lines)
    assert part.data == expected
    assert (part.rendered, part.skipped, part.failed, part.lost) == (1, 1, 1, 0)
    written = render_part(job, spec, str(tmp_path), ("part-00007.jsonl", lines))
    assert written.data == b"" and written.sha256 == part.sha256
    assert (tmp_path / "part-00007.jsonl").read_bytes() == expected
    lost = lost_lines(lines, "killed")
    assert [json.loads(x)["kind"] for x in lost.data.decode().splitlines()] == ["WorkerDied"] * 3
    assert (lost.failed, lost.lost) == (3, 3)
