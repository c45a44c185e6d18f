"""The designer preview: a local web app showing every template x fixture, live.

From the command line: ``renderer preview [--host 127.0.0.1] [--port 8025] [--open]``.
From Python::

    from renderer.preview.app import create_app
    from renderer.preview.project import ContentPaths, PreviewProject
    from renderer.preview.server import serve_in_thread

    with serve_in_thread(create_app(PreviewProject(ContentPaths.at()))) as url:
        ...

Modules: ``project`` (content, selections, renders), ``pages`` (HTML, from ``html/``),
``app`` (routes), ``watch`` (live reload), ``server`` (uvicorn), ``commands``
(the CLI wiring). This package imports nothing itself, so that the
``renderer`` command does not load the web stack unless the preview runs.
"""
