"""The one reload mechanism: a value made from files, made again when one of them changes.

Templates, segment rules, languages, trigger lookups, personas and
bestsellers are all held in a :class:`Reloading`: the files' modification
times are checked at most once per interval (a few ``stat`` calls), and the
value is rebuilt only when one changed. A failed rebuild is not cached, so a
broken edit keeps failing until it is fixed instead of the previous value
coming back for a while.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


def mtimes(files: list[Path]) -> list[int]:
    """The files' modification times in nanoseconds (-1 for a missing one)."""
    stamps = []
    for path in files:
        try:
            stamps.append(path.stat().st_mtime_ns)
        except OSError:
            stamps.append(-1)
    return stamps


@dataclass
class _Loaded(Generic[T]):
    value: T
    files: list[Path]
    stamps: list[int]
    checked_at: float


class Reloading(Generic[T]):
    """A value built from files, rebuilt when one of them changes.

    Args:
        files: the files the value is built from (a folder counts too: its
            time changes when a file is added or removed); asked before each build.
        build: makes the value from those files; it is given the previous
            value (or ``None``), which it may return again when the contents
            did not really change.
        interval: seconds between checks of the files; ``None`` never checks again.
    """

    def __init__(self, files: Callable[[], list[Path]], build: Callable[[T | None], T], *,
                 interval: float | None) -> None:
        self._files = files
        self._build = build
        self.interval = interval
        self._loaded: _Loaded[T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        loaded = self._loaded
        now = time.monotonic()
        if loaded is not None:
            if self.interval is None or now - loaded.checked_at < self.interval:
                return loaded.value
            if mtimes(loaded.files) == loaded.stamps:
                loaded.checked_at = now
                return loaded.value
        with self._lock:
            if self._loaded is not loaded and self._loaded is not None:
                return self._loaded.value  # another thread rebuilt it meanwhile
            return self._rebuild(now)

    def fresh(self) -> bool:
        """Whether :meth:`get` would answer without rebuilding (a few ``stat`` calls at most)."""
        loaded = self._loaded
        if loaded is None:
            return False
        if self.interval is None or time.monotonic() - loaded.checked_at < self.interval:
            return True
        return mtimes(loaded.files) == loaded.stamps

    def adopt(self, other: Reloading[T]) -> None:
        """Start from what ``other`` has loaded (a forked worker's engine keeps the parent's work)."""
        self._loaded = other._loaded

    @property
    def current(self) -> T | None:
        """The value last built, without checking the files (``None`` before the first build)."""
        return self._loaded.value if self._loaded is not None else None

    def _rebuild(self, now: float) -> T:
        files = self._files()
        # The times are read before the build, so an edit made during it is seen at the next check.
        stamps = mtimes(files)
        value = self._build(self._loaded.value if self._loaded is not None else None)
        self._loaded = _Loaded(value, files, stamps, now)
        return value
