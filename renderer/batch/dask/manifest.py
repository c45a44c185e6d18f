"""The output folder of a partitioned batch: part files and a manifest, all written atomically.

``manifest.json`` says which job the folder holds (template, clock, content
hash, inputs and their digests, number of partitions) and, per finished
partition, its input file and line range, the counts and the sha256 of its
part file. A partition is done when its entry is there, no line of it was
lost with a worker, and its part file still has that checksum; anything
else is rendered again by the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from renderer.base.errors import BatchStateError
from renderer.batch.dask.partitions import Partition

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
_TEMP_PREFIX = ".tmp-"


def write_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never a torn one; a crash
    leaves at most a ``.tmp-*`` file, which :func:`remove_temporaries` clears.
    ``durable`` flushes the data to disk before the rename, so that even a
    power cut cannot leave a renamed but empty file; part files skip it,
    because their checksum in the manifest catches that case on the next run.
    """
    temporary = path.with_name(f"{_TEMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_temporaries(folder: Path) -> None:
    """Delete what interrupted atomic writes left in ``folder``."""
    for leftover in folder.glob(f"{_TEMP_PREFIX}*"):
        leftover.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class PartEntry:
    """One finished partition: where its lines came from, what came out, and the part's checksum."""

    partition: int
    part: str
    input: str
    first_line: int
    last_line: int
    rendered: int
    skipped: int
    failed: int
    lost: int
    sha256: str

    @property
    def records(self) -> int:
        return self.rendered + self.skipped + self.failed

    def covers(self, partition: Partition) -> bool:
        return (self.partition, self.part, self.input, self.first_line, self.last_line) == (
            partition.index, partition.part_name, str(partition.input), partition.first_line,
            partition.last_line)


@dataclass
class Manifest:
    """The job a folder holds and its finished partitions, by index."""

    job: dict[str, Any]
    partitions: int
    parts: dict[int, PartEntry] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.parts) == self.partitions and not any(e.lost for e in self.parts.values())

    def is_done(self, folder: Path, partition: Partition) -> bool:
        """Whether ``partition`` need not be rendered again: listed, nothing lost, checksum intact."""
        entry = self.parts.get(partition.index)
        if entry is None or entry.lost or not entry.covers(partition):
            return False
        path = folder / entry.part
        return path.is_file() and sha256_file(path) == entry.sha256

    def to_json(self) -> bytes:
        data = {"format": MANIFEST_FORMAT, "complete": self.complete, "job": self.job,
                "partitions": self.partitions,
                "parts": [asdict(self.parts[index]) for index in sorted(self.parts)]}
        return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    def save(self, folder: Path) -> None:
        write_atomically(folder / MANIFEST_NAME, self.to_json())

    @classmethod
    def load(cls, folder: Path) -> Manifest | None:
        """The folder's manifest, or ``None`` when there is none.

        Raises:
            BatchStateError: the manifest cannot be read (then ``--restart`` starts over).
        """
        path = folder / MANIFEST_NAME
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {MANIFEST_FORMAT}")
            parts = {entry["partition"]: PartEntry(**entry) for entry in data["parts"]}
            return cls(job=data["job"], partitions=int(data["partitions"]), parts=parts)
        except (ValueError, KeyError, TypeError) as error:
            raise BatchStateError(f"{path} cannot be read ({error}); pass --restart to start over") from None
