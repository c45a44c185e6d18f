"""Record what a source answered, and replay it later.

A recording is a JSON file mapping profile ids to the products a source gave
(or the reason it failed), so a preview or a test shows exactly what a live
render showed: same products, same fallback, same warning.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from renderer.base.models import Product, Profile
from renderer.sources.base import RecommendationSource, RecommendationUnavailable, validate_payload

FORMAT = "renderer-recommendations-recording/1"


class RecordingSource:
    """Wraps a source and writes every answer (or failure) to ``path``."""

    def __init__(self, source: RecommendationSource, path: str | Path) -> None:
        self.source = source
        self.path = Path(path)
        self._lock = threading.Lock()
        self.entries: dict[str, Any] = {}
        if self.path.exists():
            self.entries = _load(self.path)

    def fetch(self, profile: Profile, limit: int) -> list[Product]:
        try:
            products = self.source.fetch(profile, limit)
        except RecommendationUnavailable as error:
            self._record(profile.id, {"error": error.reason})
            raise
        self._record(profile.id, {"products": [p.model_dump(mode="json") for p in products]})
        return products

    def _record(self, profile_id: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.entries[profile_id] = entry
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps({"format": FORMAT, "profiles": self.entries}, indent=1,
                                            ensure_ascii=False), encoding="utf-8")
            temporary.replace(self.path)


class ReplaySource:
    """Answers from a recording; a profile that was not recorded is a failure."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries = _load(self.path)

    def fetch(self, profile: Profile, limit: int) -> list[Product]:
        entry = self.entries.get(profile.id)
        if entry is None:
            raise RecommendationUnavailable(f"no recorded answer for profile {profile.id!r} in {self.path.name}")
        if "error" in entry:
            raise RecommendationUnavailable(str(entry["error"]))
        return validate_payload(entry.get("products"), origin=self.path.name)[:limit]


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RecommendationUnavailable(f"cannot read recording {path.name}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("profiles"), dict):
        raise RecommendationUnavailable(f"{path.name} is not a recommendations recording ({FORMAT})")
    return dict(data["profiles"])
