"""The preview's HTML pages, from the Jinja templates in ``html/``.

Each function takes what the page shows and returns the page; the small
view helpers here turn engine objects (errors, traces) into what a designer
reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from renderer.base.errors import RendererError
from renderer.content.fixtures import FIXTURE_NOW
from renderer.content.layout import ContentLayout
from renderer.devtools.preview.checks import check_email
from renderer.devtools.preview.project import AUTO, NONE, GalleryRow, Preview, PreviewProject, Selection

PAGES = Path(__file__).parent / "html"
STATIC_FILES = Path(__file__).parent / "static"
"""The preview's CSS and JavaScript (served at ``/_static``, copied into a static gallery)."""
EXCERPT_LINES = 3

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PAGES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def humanize(name: str) -> str:
    """``frequent_high_spender`` -> ``Frequent high spender``."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


_ENV.filters["humanize"] = humanize


@dataclass(frozen=True)
class ErrorView:
    """A content error as the page shows it: where, what, and the lines around it."""

    file: str | None
    line: int | None
    message: str
    excerpt: list[tuple[int, str]]


def error_view(error: RendererError, paths: ContentLayout) -> ErrorView:
    """File (relative to the content root), line, message and a few lines of source."""
    filename = getattr(error, "filename", None)
    line = getattr(error, "lineno", None)
    message = getattr(error, "message", None) or str(error)
    excerpt: list[tuple[int, str]] = []
    # Only the project's own content files are quoted, whatever an error names.
    if filename and line and paths.owns(filename) and Path(filename).is_file():
        lines = Path(filename).read_text(encoding="utf-8", errors="replace").splitlines()
        first = max(1, line - EXCERPT_LINES)
        excerpt = [(n, lines[n - 1]) for n in range(first, min(len(lines), line + EXCERPT_LINES) + 1)]
    return ErrorView(paths.display(filename) if filename else None, line, message, excerpt)


@dataclass(frozen=True)
class Person:
    """Who a profile is, for labels: a name (or the address) and initials."""

    name: str
    email: str
    initials: str


def person(profile_text: str) -> Person:
    """The recipient's name and address from a profile's JSON, as far as it can be read."""
    try:
        data = json.loads(profile_text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Person("Unreadable profile", "", "?")
    email = str(data.get("email") or "")
    name = " ".join(str(data[k]) for k in ("first_name", "last_name") if data.get(k)).strip()
    label = name or email or str(data.get("id") or "Anonymous")
    initials = "".join(word[0] for word in label.split()[:2]).upper() if name else label[:1].upper()
    return Person(label, email, initials or "?")


def _render(page: str, **context: Any) -> str:
    return _ENV.get_template(page).render(**context)


@dataclass(frozen=True)
class Links:
    """Where a page's links point: the preview server's routes, or the files of a static gallery."""

    static: bool = False

    def root(self) -> str:
        return "index.html" if self.static else "/"

    def own_file(self, name: str) -> str:
        """The preview's own CSS and JavaScript."""
        return f"_static/{name}" if self.static else f"/_static/{name}"

    def asset(self, path: str) -> str:
        """One of the content's images (``brand/logo-light.png``)."""
        return f"assets/{path}" if self.static else f"/assets/{path}"

    def email(self, selection: Selection) -> str:
        """The page of one email: its view on the server, the email itself in a static gallery."""
        if self.static:
            return f"{selection.template}/{selection.profile}.html"
        return f"/email/{selection.template}?{selection.query()}"

    def frame(self, selection: Selection) -> str:
        """The email as a card's thumbnail shows it."""
        if self.static:
            return f"{selection.template}/{selection.profile}.html"
        return f"/frame/{selection.template}.html?{selection.query()}"

    def template(self, template: str) -> str:
        """Where a template's error leads."""
        return f"#t-{template}" if self.static else f"/email/{template}"


LIVE = Links()
STATIC = Links(static=True)


def _chrome(project: PreviewProject, links: Links = LIVE) -> dict[str, Any]:
    brand_name = "Email"
    try:
        brand_name = str(project.engine.brand().get("name") or brand_name)
    except RendererError:
        pass
    logo = project.paths.assets / "brand" / "logo-light.png"
    return {"brand_name": brand_name, "logo": links.asset("brand/logo-light.png") if logo.is_file() else None,
            "links": links}


def gallery_page(project: PreviewProject, rows: list[GalleryRow], links: Links = LIVE) -> str:
    """Every template x fixture profile as cards, grouped by template (for the server, or a static folder)."""
    previews = [p for row in rows for p in row.previews]
    pending = sum(1 for p in previews if p.pending)
    problems = sum(1 for row in rows if row.error) + sum(1 for p in previews if p.email is None and not p.pending and p.skipped is None)
    return _render(
        "gallery.html", **_chrome(project, links), rows=rows, paths=project.paths, person=person,
        error_view=error_view, profiles=project.profile_names(), emails=len(previews),
        problems=problems, pending=pending, now=FIXTURE_NOW,
    )


def email_page(project: PreviewProject, preview: Preview) -> str:
    """One email on desktop and mobile, its text and source, and the data behind it."""
    selection = preview.selection
    email = preview.email
    profiles = [(name, humanize(name)) for name in project.profile_names()]
    if selection.is_custom:
        profiles.insert(0, (selection.profile, "Pasted profile"))
    payloads = [(AUTO, "The profile's own"), (NONE, "None (fallbacks)")]
    payloads += [(name, humanize(name)) for name in project.recommendation_names()]
    events = []
    if preview.event:
        events = [(AUTO, humanize(preview.event))]
        events += [(name, humanize(name)) for name in project.event_names(preview.event) if name != preview.event]
    frame = f"/frame/{selection.template}.html?{selection.query()}"
    return _render(
        "email.html", **_chrome(project),
        preview=preview, selection=selection, email=email,
        error=error_view(preview.content_error, project.paths) if preview.content_error else None,
        who=person(preview.profile_text),
        templates=project.template_names(), profiles=profiles, payloads=payloads, events=events,
        frame=frame, text_url=f"/frame/{selection.template}.txt?{selection.query()}",
        rules=_rule_descriptions(project), checks=check_email(email) if email else [],
        size_kb=len(email.html.encode()) / 1024 if email else 0,
        active_tab="profile" if preview.problems else "preview",
        variant_rows=project.variant_views(preview),
        now=FIXTURE_NOW,
    )


def frame_error(project: PreviewProject, preview: Preview) -> str:
    """What an email frame shows when its email does not render."""
    error = error_view(preview.content_error, project.paths) if preview.content_error else None
    return _render("frame_error.html", preview=preview, error=error)


def not_found_page(project: PreviewProject, message: str) -> str:
    """A 404 page that says what does exist."""
    return _render("not_found.html", **_chrome(project), message=message)


def _rule_descriptions(project: PreviewProject) -> dict[str, str]:
    try:
        return {rule.name: rule.description for rule in project.engine.rules().rules}
    except RendererError:
        return {}

