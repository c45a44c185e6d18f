"""The preview's background compiler: the gallery's templates, compiled one at a time.

Compiling every template in every fixture's language takes seconds (about
42 compiles of 50-80 ms each on an idle machine, several times that on a busy
one), so no request waits for it: the gallery shows what is ready and a
placeholder for the rest, and this thread compiles the rest in the gallery's
order, announcing each one so open pages fill in. A request for one email
still compiles just that email when it is not ready yet.
"""

from __future__ import annotations

import threading
from typing import Callable

from renderer.devtools.preview.project import PreviewProject


class BackgroundCompiler:
    """One daemon thread that compiles :meth:`PreviewProject.compile_queue` when poked.

    Args:
        project: whose templates to compile.
        on_progress: called (from the compiler's thread) after each compile.
    """

    def __init__(self, project: PreviewProject, on_progress: Callable[[], None] = lambda: None) -> None:
        self.project = project
        self._on_progress = on_progress
        self._wake = threading.Event()
        self._stop = threading.Event()
        # A daemon: a compile in progress never holds up the server's exit.
        self._thread = threading.Thread(target=self._run, name="preview-compiler", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.poke()

    def poke(self) -> None:
        """Compile whatever the gallery still lacks (again after a content change)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the compile in progress; does not wait for it."""
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            # Cleared before the queue is read: a poke from now on runs another round.
            self._wake.clear()
            for template, language in self.project.compile_queue():
                if self._stop.is_set():
                    return
                self.project.compile(template, language)
                self._on_progress()
