"""The designer preview: a local web app showing every template x fixture, live.

From the command line: ``renderer preview [--host 127.0.0.1] [--port 8025] [--open]``.
From Python::

    from renderer.devtools.preview.app import create_app
    from renderer.content.layout import ContentLayout
    from renderer.devtools.preview.project import PreviewProject
    from renderer.devtools.preview.server import serve_in_thread

    with serve_in_thread(create_app(PreviewProject(ContentLayout.at()))) as url:
        ...

Modules: ``project`` (content, selections, renders), ``pages`` (HTML, from ``html/``),
``app`` (routes), ``warm`` (the background compiler), ``watch`` (live reload),
``server`` (uvicorn); the CLI wiring is ``renderer/cli/preview.py``. This
package imports nothing itself, so that the ``renderer`` command does not
load the web stack unless the preview runs.
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025
