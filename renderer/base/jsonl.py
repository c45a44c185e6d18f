"""Stream profiles from JSON Lines, keeping bad lines as problems, not errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from renderer.base.errors import InvalidInput
from renderer.base.models import Profile, parse

MAX_LISTED_PROBLEMS = 50


def line_problem(line_number: int, error: Exception) -> str:
    """One bad JSON Lines line in plain words, starting with its line number."""
    if isinstance(error, json.JSONDecodeError):
        return f"line {line_number}: not JSON ({error.msg} at column {error.colno})"
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


def read_profiles(lines: Iterable[str], invalid: InvalidLines, *,
                  on_progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, Profile]]:
    """Yield (line number, profile) for every valid line; record the others in ``invalid``.

    Blank lines are skipped; ``on_progress`` is called every 1,000 lines read.
    """
    for number, line in enumerate(lines, start=1):
        if on_progress and number % 1000 == 0:
            on_progress(number)
        line = line.strip()
        if not line:
            continue
        try:
            yield number, parse(Profile, json.loads(line), what="profile")
        except (json.JSONDecodeError, InvalidInput) as error:
            invalid.add(number, error)
