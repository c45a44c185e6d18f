from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from renderer.base.errors import BatchStateError
from renderer.batch.dask.manifest import (
    MANIFEST_NAME,
    Manifest,
    PartEntry,
    remove_temporaries,
    write_atomically,
)
from renderer.batch.dask.partitions import Partition


def entry_for(partition: Partition, data: bytes, lost: int = 0) -> PartEntry:
    return PartEntry(partition=partition.index, part=partition.part_name, input=str(partition.input),
                     first_line=partition.first_line, last_line=partition.last_line, rendered=2, skipped=0,
                     failed=lost, lost=lost, sha256=hashlib.sha256(data).hexdigest())


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "part-00000.jsonl"
    write_atomically(target, b"one\n")
    write_atomically(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["part-00000.jsonl"]
    (tmp_path / ".tmp-part-00001.jsonl.1.ab").write_bytes(b"torn")
    remove_temporaries(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["part-00000.jsonl"]


def test_a_partition_is_done_only_when_listed_intact_and_nothing_was_lost(tmp_path):
    partition = Partition(0, Path("/in.jsonl"), 1, 2)
    data = b'{"line": 1}\n{"line": 2}\n'
    (tmp_path / partition.part_name).write_bytes(data)
    manifest = Manifest(job={"template": "welcome"}, partitions=1, parts={0: entry_for(partition, data)})
    assert manifest.is_done(tmp_path, partition) and manifest.complete
    assert not manifest.is_done(tmp_path, Partition(0, Path("/in.jsonl"), 1, 3)), "another line range"
    (tmp_path / partition.part_name).write_bytes(data.replace(b"2", b"3"))
    assert not manifest.is_done(tmp_path, partition), "checksum mismatch"
    (tmp_path / partition.part_name).unlink()
    assert not manifest.is_done(tmp_path, partition), "part missing"
    (tmp_path / partition.part_name).write_bytes(data)
    manifest.parts[0] = entry_for(partition, data, lost=2)
    assert not manifest.is_done(tmp_path, partition) and not manifest.complete, "lines lost with a worker"
    assert not Manifest(job={}, partitions=1).is_done(tmp_path, partition), "absent from the manifest"


def test_manifest_round_trip_and_unreadable_manifest(tmp_path):
    partition = Partition(3, Path("/in.jsonl"), 7, 9)
    manifest = Manifest(job={"template": "welcome", "partitions": 4}, partitions=4,
                        parts={3: entry_for(partition, b"x")})
    manifest.save(tmp_path)
    loaded = Manifest.load(tmp_path)
    assert loaded == manifest and not loaded.complete
    assert Manifest.load(tmp_path / "nowhere") is None
    (tmp_path / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(BatchStateError, match="pass --restart"):
        Manifest.load(tmp_path)
