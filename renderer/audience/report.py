"""Segment report for a whole audience, streamed from JSON Lines.

Memory stays flat in the number of profiles except for one small entry per
distinct email address, kept to flag duplicates (same email, different ids).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Callable, Iterable, Iterator

from renderer.audience.personas import Personas
from renderer.audience.segments import RuleSet
from renderer.base.jsonl import MAX_LISTED_PROBLEMS, InvalidLines, LineError, read_profiles

SAMPLE_IDS = 3


@dataclass
class SegmentReport:
    """Counts per segment, with sample ids, invalid lines and duplicates."""

    total_lines: int = 0
    valid: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    primary_counts: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)
    unsegmented: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    invalid_count: int = 0
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)
    duplicate_count: int = 0

    def share(self, segment: str) -> float:
        return self.counts[segment] / self.valid if self.valid else 0.0


def segment_audience(lines: Iterable[str | LineError], rules: RuleSet, now: datetime, *,
                     out: IO[str] | None = None,
                     on_progress: Callable[[int], None] | None = None,
                     personas: Personas | None = None) -> SegmentReport:
    """Assign segments to every profile line; bad lines are reported, not fatal.

    Args:
        lines: JSON Lines, one profile per line (blank lines are skipped): ``split_lines`` of a file.
        rules: the segment rules.
        now: the clock for derived features.
        out: where to write one JSON line per valid profile (id, segments,
            primary, features), if given.
        on_progress: called with the number of lines read so far, every 1,000 lines.
        personas: if given, each profile's nearest persona follows its rule segments.
    """
    report = SegmentReport()
    seen_emails: dict[str, str] = {}
    invalid = InvalidLines()
    last_line = 0

    def counted(raw: Iterable[str | LineError]) -> Iterator[str | LineError]:
        nonlocal last_line
        for last_line, text in enumerate(raw, start=1):  # noqa: B007 - last_line is read after the loop
            yield text

    for number, profile in read_profiles(counted(lines), invalid, on_progress=on_progress):
        report.valid += 1
        email = profile.email.lower()
        first_id = seen_emails.setdefault(email, profile.id)
        if first_id != profile.id:
            report.duplicate_count += 1
            if len(report.duplicates) < MAX_LISTED_PROBLEMS:
                report.duplicates.append((email, first_id, profile.id))
        assignment = rules.assign(profile, now)
        segments = assignment.segments
        if personas is not None:
            persona = personas.nearest(assignment.features).segment
            segments = [s for s in segments if s != persona] + [persona]
        for name in segments:
            report.counts[name] += 1
            sample = report.samples.setdefault(name, [])
            if len(sample) < SAMPLE_IDS:
                sample.append(profile.id)
        if assignment.primary:
            report.primary_counts[assignment.primary] += 1
        else:
            report.unsegmented += 1
        if out is not None:
            out.write(json.dumps({"id": profile.id, "segments": segments,
                                  "primary": assignment.primary,
                                  "features": assignment.features.as_dict()}, ensure_ascii=False) + "\n")
    report.total_lines = last_line
    report.invalid_count, report.invalid = invalid.count, invalid.listed
    return report
