"""Render every template x fixture profile into a browsable folder."""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from renderer.base.errors import RendererError
from renderer.base.models import RenderedEmail
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet
from renderer.engine import Engine


@dataclass(frozen=True)
class GalleryEntry:
    template: str
    fixture: str
    email: RenderedEmail | None
    error: str | None


def localize_assets(markup: str, assets_url: str, local_prefix: str) -> str:
    """Point the brand's CDN image URLs at a local copy, for offline previews."""
    return markup.replace(assets_url.rstrip("/") + "/", local_prefix.rstrip("/") + "/") if assets_url else markup


def render_all(engine: Engine, fixtures: FixtureSet) -> list[GalleryEntry]:
    """Render every template for every fixture profile; an error is kept, not raised."""
    entries = []
    for template in engine.template_names():
        for fixture in fixtures.profile_names():
            try:
                spec = engine.compiled(template).spec
                email = engine.render(
                    template,
                    profile=fixtures.profile(fixture),
                    recommendations=fixtures.recommendations(fixture),
                    event=fixtures.event(spec.event),
                    now=FIXTURE_NOW,
                )
                entries.append(GalleryEntry(template, fixture, email, None))
            except RendererError as error:
                entries.append(GalleryEntry(template, fixture, None, str(error)))
    return entries


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Email gallery</title>
<style>
body {{ font: 15px/1.5 -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0; background: #f6f4ef; color: #222; }}
header {{ background: #1F3D2B; color: #fff; padding: 20px 32px; }}
header h1 {{ margin: 0; font: 600 22px/1.2 Georgia, serif; }}
header p {{ margin: 4px 0 0; opacity: .8; }}
main {{ padding: 24px 32px; }}
section {{ margin-bottom: 32px; }}
h2 {{ font: 600 19px Georgia, serif; margin: 0 0 4px; }}
.desc {{ margin: 0 0 12px; color: #666; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 14px; }}
.card {{ background: #fff; border: 1px solid #e4ded3; border-radius: 8px; padding: 14px 16px; }}
.card:hover {{ border-color: #C8623A; }}
.fixture {{ font-size: 12px; letter-spacing: 1px; text-transform: uppercase; color: #C8623A; }}
.subject {{ display: block; font-weight: 600; margin: 4px 0 2px; color: #1F3D2B; text-decoration: none; }}
.subject:hover {{ text-decoration: underline; }}
.meta a {{ color: #888; }}
.preheader {{ color: #666; font-size: 13px; }}
.meta {{ color: #888; font-size: 12px; margin-top: 8px; }}
.error {{ border-color: #c0392b; }} .error pre {{ white-space: pre-wrap; color: #c0392b; font-size: 12px; }}
</style></head><body>
<header><h1>Email gallery</h1><p>{count} emails: every template rendered for every fixture profile, at {now}.</p></header>
<main>
{sections}
</main></body></html>
"""


def _card(entry: GalleryEntry) -> str:
    base = f"{entry.template}/{entry.fixture}"
    fixture = html.escape(entry.fixture.replace("_", " "))
    if entry.email is None:
        return (f'<div class="card error"><div class="fixture">{fixture}</div>'
                f"<pre>{html.escape(entry.error or '')}</pre></div>")
    email = entry.email
    segments = ", ".join(email.segments) or "no segments"
    hidden = len(email.trace.hidden)
    return (
        f'<div class="card"><div class="fixture">{fixture}</div>'
        f'<a class="subject" href="{html.escape(base)}.html">{html.escape(email.subject)}</a>'
        f'<div class="preheader">{html.escape(email.preheader)}</div>'
        f'<div class="meta">{html.escape(segments)} · {len(email.blocks)} blocks shown'
        f'{f", {hidden} hidden" if hidden else ""} · {len(email.html.encode()) // 1024} KB · '
        f'<a href="{html.escape(base)}.txt">plain text</a></div></div>'
    )


def write_gallery(out: Path, *, engine: Engine | None = None, fixtures: FixtureSet | None = None,
                  progress: Callable[[str], None] | None = None) -> list[GalleryEntry]:
    """Write ``out/index.html`` plus one ``.html`` and ``.txt`` per template x fixture.

    Images on the brand's CDN are copied next to the emails and linked locally,
    so the gallery works offline. Returns the entries, errors included.
    """
    engine = engine or Engine()
    fixtures = fixtures or FixtureSet(engine.layout.fixtures)
    entries = render_all(engine, fixtures)
    out.mkdir(parents=True, exist_ok=True)
    assets = engine.layout.assets
    if assets.is_dir():
        shutil.copytree(assets, out / "assets", dirs_exist_ok=True)
    assets_url = str(engine.brand().get("assets_url", ""))
    sections = []
    for template in engine.template_names():
        mine = [e for e in entries if e.template == template]
        folder = out / template
        folder.mkdir(exist_ok=True)
        for entry in mine:
            if entry.email is not None:
                page = localize_assets(entry.email.html, assets_url, "../assets")
                (folder / f"{entry.fixture}.html").write_text(page, encoding="utf-8")
                (folder / f"{entry.fixture}.txt").write_text(entry.email.text, encoding="utf-8")
            if progress:
                progress(f"{template}/{entry.fixture}")
        description = ""
        try:
            description = engine.compiled(template).spec.description
        except RendererError:
            pass
        sections.append(
            f"<section><h2>{html.escape(template)}</h2><p class=\"desc\">{html.escape(description)}</p>"
            f'<div class="cards">{"".join(_card(e) for e in mine)}</div></section>'
        )
    (out / "index.html").write_text(
        _PAGE.format(count=len(entries), now=FIXTURE_NOW.isoformat(), sections="\n".join(sections)),
        encoding="utf-8",
    )
    return entries
