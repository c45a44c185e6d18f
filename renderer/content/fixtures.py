"""Fixture profiles, payloads and events a designer previews templates with.

Layout of ``fixtures/``: ``profiles/NAME.json``; ``recommendations/NAME.json``
(the payload for profile NAME, else ``default.json``); ``events/TYPE.json``
(used by templates that declare ``event: TYPE``), or ``events/NAME/TYPE.json``
for profile NAME (a cart in the recipient's own currency).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from renderer.content.json_io import read_json
from renderer.content.layout import default_content_root

FIXTURE_NOW = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)
"""The clock every fixture's dates are relative to; snapshots render at it."""


@dataclass(frozen=True)
class FixtureSet:
    """The bundled (or a given) fixtures folder."""

    root: Path

    @classmethod
    def default(cls) -> FixtureSet:
        return cls(default_content_root() / "fixtures")

    def profile_names(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "profiles").glob("*.json"))

    def profile(self, name: str) -> dict[str, Any]:
        return read_json(self.root / "profiles" / f"{name}.json")

    def recommendations(self, profile_name: str) -> list[dict[str, Any]]:
        folder = self.root / "recommendations"
        own = folder / f"{profile_name}.json"
        return read_json(own if own.exists() else folder / "default.json")

    def event(self, event_type: str | None, profile_name: str | None = None) -> dict[str, Any] | None:
        """The event of a type: profile ``profile_name``'s own (``events/NAME/TYPE.json``), else the shared one."""
        if not event_type:
            return None
        if profile_name:
            own = self.root / "events" / profile_name / f"{event_type}.json"
            if own.is_file():
                return read_json(own)
        return read_json(self.root / "events" / f"{event_type}.json")
