"""The preview's ASGI app: routes over a :class:`PreviewProject`.

Routes::

    GET  /                         the gallery: every template x fixture profile
    GET  /email?template=T&profile=P&recs=R&event=E   redirects to the email below
    GET  /email/{template}?profile=NAME&recs=CHOICE&event=FIXTURE   one email, with its data
    GET  /frame/{template}.html?...   the email itself (images served locally);
                                      &download=1 for the email as sent,
                                      &scheme=dark as a dark-mode client shows it
    GET  /frame/{template}.txt?...    its plain-text part
    POST /custom                   keep a pasted profile, redirect to its view
    GET  /events                   server-sent events: content files changed
    GET  /assets/...               the project's images
    GET  /_static/...              the preview's own CSS and JavaScript
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any, AsyncIterator
from urllib.parse import parse_qs, unquote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from renderer.base.errors import TemplateNotFound
from renderer.devtools.gallery import localize_assets
from renderer.devtools.preview import pages
from renderer.devtools.preview.project import AUTO, Preview, PreviewProject, Selection
from renderer.devtools.preview.warm import BackgroundCompiler
from renderer.devtools.preview.watch import ChangeHub, watch_content

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 1 << 20
KEEPALIVE_SECONDS = 15.0
NO_STORE = {"Cache-Control": "no-store"}
# Links in a previewed email open a new tab instead of replacing the frame.
_PREVIEW_BASE = '<base target="_blank">'
# A phone shows no scrollbar; a desktop-style one would take 15 of the 375 px.
_MOBILE_STYLE = ("<style>html{scrollbar-width:none}"
                 "html::-webkit-scrollbar{display:none}</style>")


def create_app(project: PreviewProject, *, host: str = "127.0.0.1", watch: bool = True) -> Starlette:
    """The preview app for ``project``.

    Args:
        host: the address the server binds; requests must name it (or
            localhost) in their Host header, which stops DNS-rebinding pages.
        watch: push live reloads when content files change.
    """
    compiler = BackgroundCompiler(project, on_progress=lambda: hub.publish_threadsafe("compiled", {}))

    def content_changed() -> None:
        project.content_changed()
        compiler.poke()

    hub = ChangeHub(on_change=content_changed)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        compiler.start()
        stop = asyncio.Event()
        task = None
        if watch:
            settle = project.engine.reload_interval + 0.05
            task = asyncio.create_task(watch_content(project.paths, hub, settle=settle, stop=stop))
            task.add_done_callback(_report_watch_end)
        try:
            yield
        finally:
            compiler.stop()
            hub.close()
            stop.set()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    routes = [
        Route("/", _gallery),
        Route("/email", _pick),
        Route("/email/{template}", _email),
        Route("/frame/{template}.html", _frame_html),
        Route("/frame/{template}.txt", _frame_text),
        Route("/custom", _custom, methods=["POST"]),
        Route("/events", _events),
        Mount("/_static", StaticFiles(directory=pages.STATIC_FILES), name="static"),
    ]
    if project.paths.assets.is_dir():
        routes.append(Mount("/assets", StaticFiles(directory=project.paths.assets), name="assets"))
    hosts = ["*"] if host in ("0.0.0.0", "::", "") else sorted({host, "127.0.0.1", "localhost", "::1", "[::1]"})
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts), Middleware(PathGuard)],
        exception_handlers={404: _not_found, TemplateNotFound: _not_found},
        lifespan=lifespan,
    )
    app.state.project = project
    app.state.hub = hub
    app.state.compiler = compiler
    return app


def _report_watch_end(task: asyncio.Task[None]) -> None:
    # The pages keep working without live reload, so a failed watcher is a warning, not a crash.
    if not task.cancelled() and task.exception() is not None:
        log.warning("live reload stopped: %s", task.exception())


def _project(request: Request) -> PreviewProject:
    return request.app.state.project


def _selection(request: Request) -> Selection:
    project = _project(request)
    profile = request.query_params.get("profile") or next(iter(project.profile_names()), "")
    return Selection(request.path_params["template"], profile, request.query_params.get("recs") or AUTO,
                     request.query_params.get("event") or AUTO, request.query_params.get("variants") or "")


def _gallery(request: Request) -> Response:
    """Every card whose template is compiled; placeholders for the rest, which fill in as it compiles."""
    project = _project(request)
    rows = project.gallery(ready_only=True)
    if any(p.pending for row in rows for p in row.previews):
        request.app.state.compiler.poke()
    return HTMLResponse(pages.gallery_page(project, rows), headers=NO_STORE)


def _pick(request: Request) -> Response:
    """Where the pickers' form lands without JavaScript: the chosen email's address."""
    project = _project(request)
    template = request.query_params.get("template") or next(iter(project.template_names()), "")
    profile = request.query_params.get("profile") or next(iter(project.profile_names()), "")
    selection = Selection(template, profile, request.query_params.get("recs") or AUTO,
                          request.query_params.get("event") or AUTO)
    project.check(selection)
    return RedirectResponse(f"/email/{template}?{selection.query()}", status_code=303)


def _email(request: Request) -> Response:
    project = _project(request)
    preview = project.render(_selection(request))
    return HTMLResponse(pages.email_page(project, preview), headers=NO_STORE)


_DARK_QUERY = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)")


def _frame_html(request: Request) -> Response:
    project = _project(request)
    preview = project.render(_selection(request))
    email = preview.email
    if email is None:
        return HTMLResponse(pages.frame_error(project, preview), status_code=422, headers=NO_STORE)
    if request.query_params.get("download"):
        return HTMLResponse(email.html, headers=_attachment(preview, "html"))
    markup = localize_assets(email.html, project.assets_url(), "/assets")
    extra = _PREVIEW_BASE + (_MOBILE_STYLE if request.query_params.get("device") == "mobile" else "")
    markup = markup.replace("</head>", extra + "</head>", 1)
    if request.query_params.get("scheme") == "dark":
        # What a client in dark mode does: apply the email's dark-mode rules.
        # (An iframe cannot be told prefers-color-scheme: dark on its own.)
        markup = _DARK_QUERY.sub("@media all", markup)
    return HTMLResponse(markup, headers=NO_STORE)


def _frame_text(request: Request) -> Response:
    preview = _project(request).render(_selection(request))
    email = preview.email
    if email is None:
        return PlainTextResponse("This email does not render; open its page for the reason.",
                                 status_code=422, headers=NO_STORE)
    headers = _attachment(preview, "txt") if request.query_params.get("download") else NO_STORE
    return PlainTextResponse(email.text, headers=headers)


def _attachment(preview: Preview, suffix: str) -> dict[str, str]:
    profile = re.sub(r"[^A-Za-z0-9_.-]+", "_", preview.selection.profile)
    name = f"{preview.selection.template}-{profile}.{suffix}"
    return {"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE}


async def _custom(request: Request) -> Response:
    """Keep a pasted profile and show it; an unreadable one shows its problems there too."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return PlainTextResponse("That profile is larger than 1 MiB.", status_code=413)
    # The form is urlencoded (files are read into the text box in the page),
    # so the standard library parses it; no multipart parser is needed.
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace"),
                                                       keep_blank_values=True).items()}
    project = _project(request)
    name = project.custom.add(form.get("profile_json", "").strip() or "{}")
    selection = Selection(form.get("template", ""), name, form.get("recs") or AUTO, form.get("event") or AUTO)
    project.check(selection)
    return RedirectResponse(f"/email/{selection.template}?{selection.query()}", status_code=303)


async def _events(request: Request) -> Response:
    """A server-sent event stream: ``change`` with the changed files, ``compiled`` when the
    background compiler finished a template, and keep-alives; it ends when the server stops."""
    hub: ChangeHub = request.app.state.hub
    queue = hub.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\nevent: hello\ndata: {}\n\n"
            while True:
                try:
                    notice = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if notice is None:  # the server is stopping
                    return
                event, data = notice
                yield f"event: {event}\ndata: {json.dumps(data)}\n\n"
        finally:
            hub.unsubscribe(queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _not_found(request: Request, error: Exception) -> Response:
    message = str(error) if isinstance(error, TemplateNotFound) else "There is no page at this address."
    if request.url.path.startswith(("/assets/", "/_static/", "/frame/")):
        return PlainTextResponse(message, status_code=404)
    return HTMLResponse(pages.not_found_page(_project(request), message), status_code=404)


class PathGuard:
    """Refuse any URL whose path climbs out of its folder (``..``), however it is encoded.

    The static mounts already stay inside their folders; this refuses such
    requests outright (400) before any route sees them, including twice
    percent-encoded dots and backslashes that some servers treat as slashes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _climbs(scope):
            await PlainTextResponse("Bad path.", status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _climbs(scope: dict[str, Any]) -> bool:
    raw = scope.get("raw_path") or scope["path"].encode()
    for candidate in (scope["path"], raw.decode("latin-1")):
        decoded = candidate
        for _ in range(3):
            decoded = unquote(decoded)
            if "\\" in decoded or "\x00" in decoded:
                return True
            if any(part in (".", "..") for part in decoded.split("/")):
                return True
    return False
