"""``renderer gallery``: every template x fixture profile into a folder that opens offline.

The index is the preview's own gallery page (``preview/html/gallery.html``)
with links to files instead of server routes; each email is written as sent
(``TEMPLATE/PROFILE.html`` and ``.txt``), its images pointed at a local copy
of the content's ``assets/``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

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
                    event=fixtures.event(spec.event, fixture),
                    now=FIXTURE_NOW,
                    transactional=True,  # the gallery shows every fixture's email
                )
                entries.append(GalleryEntry(template, fixture, email, None))
            except RendererError as error:
                entries.append(GalleryEntry(template, fixture, None, str(error)))
    return entries


def write_gallery(out: Path, *, engine: Engine | None = None) -> list[GalleryEntry]:
    """Write ``out/index.html`` plus one ``.html`` and ``.txt`` per template x fixture.

    Returns one entry per template x fixture profile, errors included.
    """
    from renderer.devtools.preview.pages import STATIC, STATIC_FILES, gallery_page
    from renderer.devtools.preview.project import PreviewProject

    engine = engine or Engine()
    project = PreviewProject(engine.layout, engine=engine)
    rows = project.gallery()
    out.mkdir(parents=True, exist_ok=True)
    if engine.layout.assets.is_dir():
        shutil.copytree(engine.layout.assets, out / "assets", dirs_exist_ok=True)
    shutil.copytree(STATIC_FILES, out / "_static", dirs_exist_ok=True)
    assets_url = project.assets_url()
    entries = []
    for row in rows:
        profiles = [p.selection.profile for p in row.previews] or project.profile_names()
        if row.error is not None:
            entries += [GalleryEntry(row.template, profile, None, str(row.error)) for profile in profiles]
            continue
        folder = out / row.template
        folder.mkdir(exist_ok=True)
        for preview in row.previews:
            profile, email = preview.selection.profile, preview.email
            if email is None:
                why = preview.content_error or (preview.skipped.message if preview.skipped else "") \
                    or "; ".join(str(p) for p in preview.problems)
                entries.append(GalleryEntry(row.template, profile, None, str(why)))
                continue
            (folder / f"{profile}.html").write_text(localize_assets(email.html, assets_url, "../assets"),
                                                    encoding="utf-8")
            (folder / f"{profile}.txt").write_text(email.text, encoding="utf-8")
            entries.append(GalleryEntry(row.template, profile, email, None))
    (out / "index.html").write_text(gallery_page(project, rows, STATIC), encoding="utf-8")
    return entries
