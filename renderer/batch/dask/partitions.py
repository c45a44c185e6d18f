"""Split a batch job's input into partitions: ranges of lines of one input file each.

The input is one JSON Lines file, a folder of them (``*.jsonl``) or a glob.
Line numbers are the physical lines of each file (from 1), as ``renderer
batch`` reports them; blank lines are counted but render nothing. Files are
read as bytes and split on ``\\n`` only (:mod:`renderer.base.jsonl`), so an
unreadable line is that line's failure and the numbers agree with the local batch.
"""

from __future__ import annotations

import glob
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from renderer.base.errors import ConfigError, RendererError
from renderer.base.jsonl import LineError, split_lines, stripped

LINES_PER_PARTITION = 500  # about 25 MB of output per partition for a typical email
MIN_PARTITIONS = 8  # so that even a small job spreads over a few workers

Line = tuple[int, "str | LineError", "str | LineError | None"]
"""(line number, the line's text, the aligned recommendations line or None); a LineError for an unreadable line."""


@dataclass(frozen=True)
class InputFile:
    """One input file: how many lines it has, how many are not blank, and its sha256."""

    path: Path
    lines: int
    records: int
    sha256: str


@dataclass(frozen=True)
class Partition:
    """Lines ``first_line`` to ``last_line`` (inclusive) of one input file."""

    index: int
    input: Path
    first_line: int
    last_line: int

    @property
    def part_name(self) -> str:
        """The name of this partition's output file."""
        return f"part-{self.index:05d}.jsonl"


def input_paths(spec: str | Path) -> list[Path]:
    """The input files named by ``spec``: a file, a folder of ``*.jsonl`` files, or a glob, sorted.

    Raises:
        RendererError: nothing matches, or the folder holds no ``*.jsonl`` file.
    """
    path = Path(spec)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.glob("*.jsonl") if p.is_file() and not p.name.startswith("."))
        if not found:
            raise RendererError(f"{spec}: the folder holds no *.jsonl file")
        return found
    found = sorted(Path(p) for p in glob.glob(str(spec)) if Path(p).is_file())
    if not found:
        raise RendererError(f"{spec}: no such file, folder, or files matching the pattern")
    return found


def scan(path: Path) -> InputFile:
    """Count the lines of ``path`` (all of them, and those not blank) and hash its text.

    Lines are split as :func:`read_partitions` (and the local batch) split
    them, on ``\\n`` only, so the numbers always agree; the hash is of the bytes.
    """
    digest = hashlib.sha256()
    lines = records = 0
    with path.open("rb") as handle:
        for line in split_lines(handle):
            lines += 1
            records += not isinstance(line, str) or bool(line.strip())
        handle.seek(0)
        while block := handle.read(1 << 20):
            digest.update(block)
    return InputFile(path, lines, records, digest.hexdigest())


def default_partitions(records: int) -> int:
    """A partition per :data:`LINES_PER_PARTITION` records, and at least a few."""
    return max(min(MIN_PARTITIONS, records), math.ceil(records / LINES_PER_PARTITION), 1)


def plan(files: list[InputFile], partitions: int) -> list[Partition]:
    """About ``partitions`` partitions, shared among the files by size; each file gets at least one.

    A partition never spans two files, so it can name its input in the
    manifest; a file with no lines gets none.

    Raises:
        ValueError: ``partitions`` is less than 1.
    """
    if partitions < 1:
        raise ConfigError("partitions must be at least 1")
    sized = [f for f in files if f.lines]
    total = sum(f.lines for f in sized)
    quotas = [partitions * f.lines / total for f in sized]
    shares = [max(1, min(f.lines, int(quota))) for f, quota in zip(sized, quotas)]
    # Largest remainders first, so that the shares add up to the partitions asked for.
    for index in sorted(range(len(sized)), key=lambda i: quotas[i] - int(quotas[i]), reverse=True):
        if sum(shares) >= partitions:
            break
        if shares[index] < sized[index].lines:
            shares[index] += 1
    result: list[Partition] = []
    for file, share in zip(sized, shares):
        size = math.ceil(file.lines / share)
        for first in range(1, file.lines + 1, size):
            result.append(Partition(len(result), file.path, first, min(first + size - 1, file.lines)))
    return result


def read_partitions(partitions: list[Partition], recommendations: Path | None = None,
                    skip: set[int] | frozenset[int] = frozenset()) -> Iterator[tuple[Partition, list[Line]]]:
    """Each partition not in ``skip`` with its non-blank lines, stripped, reading each file once.

    ``recommendations`` is a JSON Lines file aligned line by line with a
    single input file; a missing or blank line there reads as ``null``.
    """
    by_file: dict[Path, list[Partition]] = {}
    for partition in partitions:
        by_file.setdefault(partition.input, []).append(partition)
    for path, parts in by_file.items():
        if all(p.index in skip for p in parts):
            continue
        recs_file = recommendations.open("rb") if recommendations else None
        recs = split_lines(recs_file) if recs_file else None
        try:
            with path.open("rb") as handle:
                numbered = enumerate(split_lines(handle), start=1)
                for partition in parts:
                    lines: list[Line] = []
                    for number, text in numbered:
                        recs_text = next(recs, "") if recs else None
                        if number >= partition.first_line and (not isinstance(text, str) or text.strip()):
                            lines.append((number, stripped(text),
                                          (stripped(recs_text) or "null") if recs_text is not None else None))
                        if number == partition.last_line:
                            break
                    if partition.index not in skip:
                        yield partition, lines
        finally:
            if recs_file:
                recs_file.close()
