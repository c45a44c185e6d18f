"""Renders off the event loop, answered at their time budget: threads kept for that one job.

A render is CPU work of about a third of a millisecond (longer when it
waits for the recommendation source); the event loop must stay free to
read and write the other connections, and a render past the budget must
be answered 503 at the budget, not when it ends. So each render runs in a
thread. anyio's general-purpose hop (a capacity limiter, cancel scopes, a
worker thread woken per call) cost about as much CPU as the rest of the
service's HTTP handling together, so the service keeps its own threads:

- while renders only compute (no recommendation source), one thread does
  them: under load it takes the next job from its queue without sleeping,
  and more threads would only take turns at the GIL. When a job is queued
  while every thread has been busy on its current job for longer than the
  stall time (a runaway template; :data:`STALL_SECONDS` at most, a quarter
  of the time budget when that is shorter), one more thread starts, so
  that a long render does not hold the others up, and it ends as soon as
  no thread is held up any more (a thread that the machine's load kept
  off its core for a moment costs one job on a second thread, no more);
- when renders wait for the network (``eager``), a job that finds no idle
  thread starts one, as a general pool would, and a thread beyond the
  first that stays idle for :data:`IDLE_SECONDS` ends;
- at most ``max_threads``;
- a job whose budget ran out while it waited is never started, and a job
  that ends after its budget is answered as past it (its result dropped),
  whichever of the timer and the result the event loop sees first.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")

STALL_SECONDS = 0.25
"""A thread busy on one job for longer than this is taken to be held up (a render takes about 0.3 ms)."""
IDLE_SECONDS = 10.0
"""A thread beyond the first ends after this long without work."""


class BudgetExpired(Exception):
    """The job did not end within its budget (it may still be running; its result will be dropped)."""


def _settle(waiter: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if waiter.done():  # past its budget already, or the request was cancelled
        return
    if error is None:
        waiter.set_result(result)
    else:
        waiter.set_exception(error)


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(BudgetExpired())


class RenderThreads:
    """The threads of one worker's renders; :meth:`run` one job within a budget.

    Args:
        max_threads: how many threads at most.
        eager: start a thread whenever a job finds none idle (for jobs that
            wait on I/O); otherwise only when the busy ones are held up.
        stall_seconds: how long a job holds its thread before the thread
            counts as held up (not eager).
        idle_seconds: how long a thread beyond the first waits for work before it ends.
        name: the threads' name prefix.
    """

    def __init__(self, max_threads: int = 40, *, eager: bool = False, stall_seconds: float = STALL_SECONDS,
                 idle_seconds: float = IDLE_SECONDS, name: str = "renderer-render") -> None:
        if max_threads < 1:
            raise ValueError("max_threads must be at least 1")
        self.max_threads = max_threads
        self.eager = eager
        self.stall_seconds = stall_seconds
        self.idle_seconds = idle_seconds
        self.name = name
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for a job
        self._busy_since: dict[int, float] = {}  # thread ident -> when its current job started
        self._check_pending = False

    @property
    def threads(self) -> int:
        """How many threads there are now."""
        return self._threads

    async def run(self, work: Callable[[], T], budget: float) -> T:
        """``work()`` in one of the threads: its result, or its exception raised here.

        Raises:
            BudgetExpired: ``budget`` seconds passed before it ended (a job
                not started by then never starts).
        """
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + budget
        waiter = loop.create_future()
        self._jobs.put((work, waiter, loop))
        self._make_room(loop)
        timer = loop.call_later(budget, _expire, waiter)
        try:
            result = await waiter
        finally:
            timer.cancel()
        if time.monotonic() > deadline:  # it ended past the budget, before the timer could say so
            raise BudgetExpired()
        return result

    def _make_room(self, loop: asyncio.AbstractEventLoop) -> None:
        """A thread for every queued job: idle ones, else a new one when that is the policy."""
        with self._lock:
            start = self._should_start()
            if start:
                self._threads += 1
                self._idle += 1  # counted idle until it takes its first job
                permanent = self._threads == 1
            elif (not self.eager and self._threads < self.max_threads and not self._check_pending
                  and self._idle < self._jobs.qsize()):
                # Every thread is busy, for less than the stall time so far: look again then, in case
                # they stay held up and nothing else is asked meanwhile.
                self._check_pending = True
                loop.call_later(self.stall_seconds, self._check_stall, loop)
        if start:
            threading.Thread(target=self._serve, args=(permanent,), name=f"{self.name}-{self._threads}",
                             daemon=True).start()

    def _should_start(self) -> bool:
        """(Under the lock.) Whether the queue needs one more thread."""
        if self._threads >= self.max_threads or self._idle >= self._jobs.qsize():
            return False
        if self._threads == 0 or self.eager:
            return True
        latest = max(self._busy_since.values(), default=None)
        return latest is not None and time.monotonic() - latest > self.stall_seconds

    def _held_up(self) -> bool:
        """(Under the lock.) Whether some thread has been on its current job for longer than the stall time."""
        earliest = min(self._busy_since.values(), default=None)
        return earliest is not None and time.monotonic() - earliest > self.stall_seconds

    def _check_stall(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._check_pending = False
        self._make_room(loop)

    def _serve(self, permanent: bool) -> None:
        ident = threading.get_ident()
        while True:
            try:
                job = self._jobs.get(timeout=None if permanent else self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._threads -= 1
                        self._idle -= 1
                        return
                continue
            work, waiter, loop = job
            with self._lock:
                self._idle -= 1
                self._busy_since[ident] = time.monotonic()
            if not waiter.done():  # else its budget ran out while it waited: it never starts
                try:
                    result, error = work(), None
                except BaseException as raised:  # noqa: BLE001 - handed to the caller, who answers it
                    result, error = None, raised
                try:
                    loop.call_soon_threadsafe(_settle, waiter, result, error)
                except RuntimeError:  # the event loop has closed: the server stopped
                    pass
            with self._lock:
                del self._busy_since[ident]
                # A thread started because others were held up ends once none is (not eager).
                retire = not permanent and not self.eager and not self._held_up()
                if retire:
                    self._threads -= 1
                else:
                    self._idle += 1
            if retire:
                return
            del job, work, waiter, loop
            result = error = None
