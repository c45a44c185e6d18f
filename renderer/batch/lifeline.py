"""Worker processes end with the process that forked them, however it ends.

A pool worker waits for work on a pipe that its sibling workers hold open
too, so when its parent is killed (SIGKILL, the OOM killer) nothing tells it:
it lived on with parent 1, holding its memory and the parent's standard
output and error. :func:`bind`, the first thing a worker does, ties it to
the parent that forked it:

- on Linux the kernel kills the worker when its parent dies
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)``, one system call, nothing running);
- elsewhere (or if that call fails) a daemon thread of the worker blocks
  reading a pipe whose write end only the parent keeps open, and ends the
  worker when the read returns end-of-file: the kernel closes that end when
  the parent dies, however it dies (a process that other code forks from
  the parent holds it too, until it ends). No polling either way.

Either way the worker then checks that its parent is still the process
that forked it, for a parent that died before the worker was bound.

Linux sends the signal when the *thread* that forked the worker ends, not
only the process. A ``ProcessPoolExecutor`` with the fork context forks all
its workers in the thread that first submits work to it (never in its
manager thread: the executor replaces no dead worker, it reports a broken
pool), which in ``ordered_pool_map`` is the thread iterating the results;
it lives for the whole map. A result iterator handed to another thread
after its first result loses its workers when the first thread ends, and
``ordered_pool_map`` retries their chunks in a new pool forked by the
thread now iterating: slower, nothing lost.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from dataclasses import dataclass

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Lifeline:
    """What a worker needs to die with its parent: the parent's pid and the pipe's two ends."""

    parent: int
    read_fd: int
    write_fd: int


_own: Lifeline | None = None


def lifeline() -> Lifeline:
    """This process's lifeline, made on first use (before it forks workers) and shared by all its pools."""
    global _own
    if _own is None or _own.parent != os.getpid():  # a forked child makes its own
        read_fd, write_fd = os.pipe()
        _own = Lifeline(os.getpid(), read_fd, write_fd)
    return _own


def bind(line: Lifeline) -> None:
    """In a newly forked worker: end this process when the parent that forked it ends."""
    # This worker's copy of the write end would keep the pipe open for ever.
    os.close(line.write_fd)
    if not _kill_me_with_my_parent():
        threading.Thread(target=_exit_at_end_of_file, args=(line.read_fd,), name="renderer-lifeline",
                         daemon=True).start()
    if os.getppid() != line.parent:  # it died before either was in place
        os._exit(1)


def _kill_me_with_my_parent() -> bool:
    """Ask Linux for SIGKILL when the parent dies; False where that cannot be had."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _exit_at_end_of_file(read_fd: int) -> None:
    try:
        while os.read(read_fd, 1):  # nothing is ever written: this returns at end of file
            pass
    finally:
        os._exit(1)
