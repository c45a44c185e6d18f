"""Spool slots: how worker processes hand their large output to the parent.

An email is about 45 KB. Sent back through the process pool's pipe (and
pickled in one piece per chunk), it cost the parent a third of a core on a
2-core machine and the workers up to half their speed. Instead a worker
writes each finished item into a *slot*, a file in ``/dev/shm`` (memory)
where there is one, as soon as it is made, and returns only the slot's name
and how many bytes it wrote. The parent reads the slot (or appends it to
its output in the kernel with ``os.sendfile``) in input order.

Slots are reused, never truncated: writing over pages a file already has
costs a seventh of allocating new ones. Chunk ``i`` uses slot
``i % slots``; with ``slots`` equal to the pool's in-flight bound
(``batch.in_flight``), a slot is rewritten only after the parent consumed
the chunk that used it before. A worker locks its slot while writing, so a
worker that the pool is replacing cannot tear a retry's output. Items that
cannot be written (a full ``/dev/shm``) travel inline instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterable, Iterator, Sequence


@dataclass(frozen=True)
class SpoolChunk:
    """Work for a worker, and the slot it writes the chunk's output to."""

    slot: str
    items: Any
    """What to render: a sequence of items, or whatever the job's worker function reads them from."""


@dataclass(frozen=True)
class Spooled:
    """A chunk's output: the first ``size`` bytes of the slot at ``path``, then ``data``
    (what could not be spooled, or all of it when ``path`` is ``None``); and ``counts``,
    whatever the job tallies per chunk."""

    path: str | None
    size: int
    data: bytes
    counts: tuple[int, ...] = ()


def spool_root() -> str | None:
    """Where slots go: ``$RENDERER_SPOOL_DIR``, else ``/dev/shm`` (memory), else the temp folder."""
    chosen = os.environ.get("RENDERER_SPOOL_DIR")
    if chosen:
        return chosen
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


PREFIX = "renderer-batch-"


def spool_folder() -> tempfile.TemporaryDirectory[str]:
    """A private folder for one job's slots, removed when the job ends.

    A job killed outright (SIGKILL, out of memory) cannot remove its folder,
    and in ``/dev/shm`` that is memory: the folder's name carries the job's
    process id, and the next job removes the folders of processes that are
    gone (:func:`remove_stale_folders`).
    """
    root = spool_root()
    remove_stale_folders(root or tempfile.gettempdir())
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-", dir=root)


def remove_stale_folders(root: str) -> list[str]:
    """Remove this user's spool folders in ``root`` whose process has ended; returns them."""
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(PREFIX):
            continue
        pid_text = name[len(PREFIX):].split("-", 1)[0]
        try:
            if not pid_text.isdigit() or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        if _alive(int(pid_text)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def spooled(chunks: Iterable[Sequence[Any]], folder: str, slots: int) -> Iterator[SpoolChunk]:
    """Give chunk ``i`` the slot ``i % slots`` of ``folder`` (see the module docstring)."""
    for index, items in enumerate(chunks):
        yield SpoolChunk(os.path.join(folder, f"slot-{index % slots}"), items)


class SlotWriter:
    """Writes one chunk's items into its slot, each as soon as it is made (a context manager)."""

    def __init__(self, slot: str) -> None:
        self.slot = slot
        self.size = 0
        self._spilled: list[bytes] = []
        try:
            self._descriptor = os.open(slot, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError:
            self._descriptor = -1

    def __enter__(self) -> SlotWriter:
        if self._descriptor >= 0:
            # A worker the pool replaced may still be dying over this slot: wait for it.
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._descriptor >= 0:
            os.close(self._descriptor)
            self._descriptor = -1

    def write(self, data: bytes) -> None:
        if self._descriptor >= 0 and not self._spilled:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._descriptor, view):]
                self.size += len(data)
                return
            except OSError:
                os.lseek(self._descriptor, self.size, os.SEEK_SET)  # a torn item past ``size`` is ignored
        self._spilled.append(data)

    def result(self, counts: tuple[int, ...] = ()) -> Spooled:
        return Spooled(self.slot if self.size else None, self.size, b"".join(self._spilled), counts)


def append_spooled(target: BinaryIO, output: Spooled) -> None:
    """Append a chunk's output to ``target``: the slot's bytes copied by the kernel, then the rest."""
    if output.path is not None:
        _append_slot(target, output.path, output.size)
    if output.data:
        target.write(output.data)


def read_spooled(output: Spooled) -> bytes:
    """A chunk's output as bytes (the slot's first ``size`` bytes, then the rest)."""
    if output.path is None:
        return output.data
    with open(output.path, "rb") as source:
        data = source.read(output.size)
    if len(data) != output.size:
        raise OSError(f"{output.path} ended at byte {len(data):,} of {output.size:,}")
    return data + output.data if output.data else data


def _append_slot(target: BinaryIO, path: str, size: int) -> None:
    target.flush()
    with open(path, "rb") as source:
        offset = 0
        try:
            destination = target.fileno()  # io.UnsupportedOperation (an OSError) for in-memory targets
            while offset < size:
                sent = os.sendfile(destination, source.fileno(), offset, size - offset)
                if sent == 0:
                    raise OSError(f"sendfile stopped at byte {offset:,} of {size:,}")
                offset += sent
        except OSError:
            source.seek(offset)  # what was sent stays; the rest follows it
            while offset < size:
                piece = source.read(min(1 << 20, size - offset))
                if not piece:
                    raise OSError(f"{path} ended at byte {offset:,} of {size:,}") from None
                target.write(piece)
                offset += len(piece)
            target.flush()
