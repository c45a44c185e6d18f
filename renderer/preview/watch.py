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

from .project import ContentPaths


class ChangeHub:
    """Fans each change notice out to every subscriber (one queue per open page)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[list[str]]] = set()

    def subscribe(self) -> asyncio.Queue[list[str]]:
        queue: asyncio.Queue[list[str]] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[list[str]]) -> None:
        self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, files: list[str]) -> None:
        """Send the changed files (as the designer names them) to every subscriber."""
        for queue in list(self._queues):
            queue.put_nowait(files)


async def watch_content(paths: ContentPaths, hub: ChangeHub, *, settle: float,
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
