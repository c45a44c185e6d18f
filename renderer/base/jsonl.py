"""Reading JSON Lines that no single line can stop: bytes in, one verdict per line out.

A JSON Lines file is split on ``\\n`` only: a carriage return inside a line
is JSON whitespace, not a line break, so line numbers always match what an
editor and ``sed -n Np`` show. Each line is decoded on its own; a line that
is not UTF-8, longer than :data:`MAX_LINE_BYTES`, not JSON or nested too
deeply to read becomes a :class:`LineError` for that line alone, and the
lines after it are read as usual. The batch job, the Dask partitions,
``renderer segments`` and ``segments fit`` all read their input here.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterable, Iterator

import orjson

from renderer.base.errors import InvalidInput, Problem
from renderer.base.models import Profile, parse

MAX_LISTED_PROBLEMS = 50
MAX_LINE_BYTES = 1 << 20
"""The longest input line read (1 MiB, newline excluded); a longer one is one failed line."""
_SKIP_CHUNK = 1 << 16


class LineError(ValueError):
    """One input line that cannot be read as a JSON value.

    Attributes:
        type: why, as a pydantic-style error type: ``utf8_invalid``,
            ``line_too_long``, ``json_invalid`` or ``json_too_deep``.
        message: the same in plain words, without the line number.
    """

    def __init__(self, type: str, message: str) -> None:  # noqa: A002 - the field is called type everywhere
        super().__init__(type, message)
        self.type = type
        self.message = message

    def __str__(self) -> str:
        return self.message

    def details(self) -> dict[str, Any]:
        """The problem as a failed record lists it: the shape of :meth:`Problem.details` (the whole line)."""
        return Problem("", self.message, self.type).details()


def split_lines(handle: BinaryIO, *, max_bytes: int = MAX_LINE_BYTES,
                from_start: bool = True) -> Iterator[str | LineError]:
    """Each line of a file opened in binary mode: its text, or the :class:`LineError` that stops it.

    Lines end at ``\\n`` only. Memory stays within ``max_bytes`` per line
    however long a line is: the rest of an overlong line is read in chunks
    and dropped. A UTF-8 byte order mark at the start of the file is ignored
    (``from_start``: the handle is at the file's start; false when it was
    moved to a later line).
    """
    first = from_start
    while raw := handle.readline(max_bytes + 1):
        if first:
            first = False
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
                if not raw.endswith(b"\n"):  # the mark took room from the line: read as much more of it
                    raw += handle.readline(len(codecs.BOM_UTF8))
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(_SKIP_CHUNK)
                size += len(raw.rstrip(b"\n"))
            yield LineError("line_too_long", f"longer than {max_bytes:,} bytes ({size:,} bytes); "
                                             "split the record or shorten its values")
            continue
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield LineError("utf8_invalid", f"not UTF-8 (byte 0x{raw[error.start]:02x} at byte {error.start + 1})")


def stripped(line: str | LineError) -> str | LineError:
    """A line without surrounding whitespace; a LineError as it is."""
    return line.strip() if isinstance(line, str) else line


def loads_line(text: str | bytes) -> Any:
    """The JSON value of one line.

    orjson reads it (a typical profile line in a third of the standard
    library's time); what orjson refuses, the standard library reads and
    words: ``NaN``, integers past 64 bits, a lone surrogate escape and every
    error message are as ``json`` has them.

    Raises:
        LineError: the line is not JSON, or is nested too deeply to read.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LineError("json_invalid", f"not JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise LineError("json_too_deep", "not readable JSON: arrays or objects nested too deeply") from None


def dumps(value: Any) -> bytes:
    """``value`` as UTF-8 JSON: orjson (a 50 KB email record in about a twentieth of the standard
    library's time), or, for what orjson refuses (a lone surrogate from a ``"\\ud800"`` escape in an
    input, an integer past 64 bits, a value it does not know), the standard library, the
    surrogate as the same JSON escape, so the result stays valid JSON. The batch job's records and
    the service's answers are written here."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return _dumps_slowly(value)


def dumps_line(value: Any) -> bytes:
    """``value`` as one JSON Lines line (:func:`dumps`), newline included."""
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return _dumps_slowly(value) + b"\n"


def _dumps_slowly(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace")


def json_kind(value: Any) -> str:
    """What a JSON value is, in words: ``an array``, ``a string``, ``null``..."""
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), "an object")


def line_problem(line_number: int, error: Exception) -> str:
    """One bad JSON Lines line in plain words, starting with its line number."""
    if isinstance(error, InvalidInput):
        return f"line {line_number}: " + "; ".join(str(p) for p in error.problems)
    return f"line {line_number}: {error}"


@dataclass
class InvalidLines:
    """How many lines were bad, and the first few of them in plain words."""

    count: int = 0
    listed: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line_number: int, error: Exception) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED_PROBLEMS:
            self.listed.append((line_number, line_problem(line_number, error)))


def read_profiles(lines: Iterable[str | LineError], invalid: InvalidLines, *,
                  on_progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, Profile]]:
    """Yield (line number, profile) for every valid line; record the others in ``invalid``.

    ``lines`` is :func:`split_lines` of a file (or any iterable of lines).
    Blank lines are skipped; ``on_progress`` is called every 1,000 lines read.
    """
    for number, line in enumerate(lines, start=1):
        if on_progress and number % 1000 == 0:
            on_progress(number)
        if isinstance(line, LineError):
            invalid.add(number, line)
            continue
        line = line.strip()
        if not line:
            continue
        try:
            yield number, parse(Profile, loads_line(line), what="profile")
        except (LineError, InvalidInput) as error:
            invalid.add(number, error)


class LineStarts:
    """Where a binary file's lines start, found by counting newlines in large blocks, never decoding.

    :meth:`advance` moves on by a number of lines (``\\n``-ended, as
    :func:`split_lines` reads them) and gives the byte offset reached: what
    lets a reader elsewhere start at a line without the lines before it.
    Memory stays within one block however long a line is.
    """

    BLOCK = 1 << 20

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.offset = handle.tell()
        self.at_end = False
        self._block = b""
        self._at = 0

    def advance(self, lines: int) -> int:
        """The offset ``lines`` lines on (the file's end when it has fewer); :attr:`at_end` says whether it was reached."""
        while lines > 0:
            if self._at >= len(self._block):
                self._block, self._at = self._handle.read(self.BLOCK), 0
                if not self._block:
                    self.at_end = True
                    return self.offset
            found = self._block.count(b"\n", self._at)
            if found < lines:
                lines -= found
                self.offset += len(self._block) - self._at
                self._at = len(self._block)
                continue
            for _ in range(lines):
                end = self._block.index(b"\n", self._at) + 1
                self.offset += end - self._at
                self._at = end
            lines = 0
        if self._at >= len(self._block):  # look ahead: at the end, or a line starts here
            self._block, self._at = self._handle.read(self.BLOCK), 0
            self.at_end = not self._block
        return self.offset
