"""Live reload: watch the content files and tell every open page what changed.

The watcher only announces; it never compiles. The next request re-renders
through the Engine, whose cache recompiles just the templates whose files
changed (see :meth:`renderer.Engine.compiled`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

from watchfiles import Change, DefaultFilter, awatch

from renderer.content.layout import ContentLayout

Notice = tuple[str, dict]
"""An event for the open pages: its name (``change``, ``compiled``) and its data."""


class ChangeHub:
    """Fans each notice out to every subscriber (one queue per open page).

    Lives on the server's event loop; :meth:`publish_threadsafe` and
    :meth:`close_threadsafe` may be called from other threads (the background
    compiler, a signal handler) once :meth:`bind` has named the loop.
    """

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self._queues: set[asyncio.Queue[Notice | None]] = set()
        self._on_change = on_change
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self) -> asyncio.Queue[Notice | None]:
        """A queue of notices; ``None`` on it means the server is stopping."""
        queue: asyncio.Queue[Notice | None] = asyncio.Queue()
        if self.closed:
            queue.put_nowait(None)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Notice | None]) -> None:
        self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, files: list[str]) -> None:
        """Send the changed files (as the designer names them) to every subscriber."""
        self._on_change()
        self._send(("change", {"files": files}))

    def publish_threadsafe(self, event: str, data: dict) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._send, (event, data))

    def close(self) -> None:
        """End every event stream, so a stopping server has no open response to wait for."""
        self.closed = True
        for queue in list(self._queues):
            queue.put_nowait(None)

    def close_threadsafe(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)

    def _send(self, notice: Notice) -> None:
        for queue in list(self._queues):
            queue.put_nowait(notice)


async def watch_content(paths: ContentLayout, hub: ChangeHub, *, settle: float,
                        stop: asyncio.Event) -> None:
    """Publish changes to blocks, templates, fixtures and the segment rules until ``stop`` is set.

    Args:
        settle: seconds to wait before publishing; at least the Engine's
            ``reload_interval``, so a page that re-renders on the notice is
            sure to see the new files rather than a cache checked just before.
    """
    folders = [p for p in (paths.templates, paths.blocks, paths.fixtures, paths.locales) if p and p.is_dir()]
    watches = [_watch(folders, hub, paths.display, settle, stop, recursive=True)] if folders else []
    if paths.segments.parent.is_dir():
        # Watch the rules file's folder, not the file: editors that save by
        # renaming a new file over the old one would end a watch on the file.
        rules = _only(paths.segments)
        watches.append(_watch([paths.segments.parent], hub, paths.display, settle, stop,
                              recursive=False, watch_filter=rules))
    await asyncio.gather(*watches)


def _only(target: Path) -> Callable[[Change, str], bool]:
    def accept(change: Change, path: str) -> bool:
        return Path(path).resolve() == target
    return accept


async def _watch(folders: list[Path], hub: ChangeHub, display: Callable[[str], str], settle: float,
                 stop: asyncio.Event, *, recursive: bool,
                 watch_filter: Callable[[Change, str], bool] | None = None) -> None:
    async for changes in awatch(*folders, recursive=recursive, stop_event=stop, debounce=600,
                                watch_filter=watch_filter or DefaultFilter()):
        files = sorted({display(path) for _, path in changes})
        await asyncio.sleep(settle)
        hub.publish(files)
