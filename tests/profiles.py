"""Build profiles for rule and feature tests, with dates relative to FIXTURE_NOW."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from renderer.base.models import Profile, parse
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.synthetic import generate_profiles, write_jsonl


def iso(days_ago: float) -> str:
    return (FIXTURE_NOW - timedelta(days=days_ago)).isoformat()


def make_profile(*, orders: list[float] = (), total: float = 50.0, currency: str = "USD",
                 signup_days: float | None = 400, country: str | None = "US", received: int = 0,
                 opens: int = 0, clicks: int = 0, last_open: float | None = None,
                 last_click: float | None = None, browsing: int = 0, **extra: Any) -> Profile:
    """A profile with orders placed ``orders`` days ago, each worth ``total``."""
    product = {"id": "p1", "name": "Mug", "url": "https://shop.example/p1", "price": 10}
    data: dict[str, Any] = {
        "id": extra.pop("id", "c1"),
        "email": "someone@example.com",
        "location": {"country": country},
        "orders": [{"id": f"o{i}", "placed_at": iso(d), "total": total, "currency": currency}
                   for i, d in enumerate(orders)],
        "engagement": {"emails_received": received, "opens": opens, "clicks": clicks,
                       "last_open_at": iso(last_open) if last_open is not None else None,
                       "last_click_at": iso(last_click) if last_click is not None else None},
        "browsing": [{"product": product, "viewed_at": iso(i + 1)} for i in range(browsing)],
    }
    if signup_days is not None:
        data["signup_date"] = iso(signup_days)
    data.update(extra)
    return parse(Profile, data, what="profile")


def audience(path: Path, count: int, seed: int = 3, broken_lines: dict[int, str] | None = None) -> Path:
    """A synthetic audience as JSON Lines, with some lines replaced by ``broken_lines``."""
    write_jsonl(generate_profiles(count, seed=seed, now=FIXTURE_NOW), path)
    if broken_lines:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, text in broken_lines.items():
            lines[number - 1] = text
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
