"""The pieces of the service's hot path on their own: its render threads and its JSON reading.

Nothing here measures speed (that is ``benchmarks/bench_service.py``); the
waits are for events, bounded generously, so that a busy machine is slow
but never wrong.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from renderer.base.errors import InvalidInput
from renderer.service.runner import BudgetExpired, RenderThreads
from renderer.service.single import parse_json, route_of

from service_support import PATIENCE


def run_async(coroutine):
    # In a thread of its own: a test before this one in the same process may have left an event loop
    # running in this thread (Playwright's sync API does), and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def test_a_job_gives_its_result_or_raises_its_error():
    def broken():
        raise ValueError("a bug in the job")

    async def main():
        threads = RenderThreads()
        assert await threads.run(lambda: 6 * 7, PATIENCE) == 42
        with pytest.raises(ValueError, match="a bug in the job"):
            await threads.run(broken, PATIENCE)
        return threads.threads

    assert run_async(main()) == 1  # short jobs, one after another: one thread did them all


def test_a_job_past_its_budget_is_expired_and_a_held_up_thread_does_not_hold_up_the_next_job():
    release = threading.Event()

    async def main():
        threads = RenderThreads(stall_seconds=0.05, idle_seconds=0.05)
        with pytest.raises(BudgetExpired):  # the first thread stays busy with it until released
            await threads.run(lambda: release.wait(PATIENCE), 0.01)
        # Queued behind a job that has held its thread past the stall time: a second thread takes it.
        assert await threads.run(lambda: "answered", PATIENCE) == "answered"
        assert threads.threads == 2
        release.set()
        # Nothing held up any more: the second thread ends (after its next job, or waiting for one).
        while threads.threads > 1:
            assert await threads.run(lambda: "more", PATIENCE) == "more"
            await asyncio.sleep(0.01)

    try:
        run_async(main())
    finally:
        release.set()


def test_a_job_longer_than_its_budget_is_expired_whichever_the_event_loop_sees_first():
    # The timer or the result: with a budget this short either may reach the event loop first, and
    # the answer is the same.
    async def main():
        threads = RenderThreads()
        await threads.run(lambda: None, PATIENCE)  # the thread is up and idle
        for _ in range(20):
            with pytest.raises(BudgetExpired):
                await threads.run(lambda: threading.Event().wait(0.001), 1e-6)

    run_async(main())


def test_a_job_whose_budget_ran_out_while_it_waited_never_starts():
    release = threading.Event()
    started = threading.Event()

    async def main():
        threads = RenderThreads(max_threads=1)
        blocking = asyncio.ensure_future(threads.run(lambda: release.wait(PATIENCE), PATIENCE))
        while not threads.threads:
            await asyncio.sleep(0.001)
        with pytest.raises(BudgetExpired):
            await threads.run(started.set, 0.01)  # behind the blocking job, in the only thread
        release.set()
        assert await blocking is True
        assert await threads.run(lambda: "next", PATIENCE) == "next"  # the queue has moved past it

    try:
        run_async(main())
    finally:
        release.set()
    assert not started.is_set()


def test_eager_threads_run_jobs_that_wait_for_each_other_together():
    async def main():
        threads = RenderThreads(max_threads=4, eager=True)
        meeting = threading.Barrier(3, timeout=PATIENCE)
        results = await asyncio.gather(*(threads.run(meeting.wait, PATIENCE) for _ in range(3)))
        assert sorted(results) == [0, 1, 2]
        assert threads.threads == 3

    run_async(main())


def test_a_body_reads_as_the_standard_library_reads_it():
    bodies = [
        b'{"profile": {"id": "c1", "lifetime_value": 0.1, "visits": 123456789012345678901234567890}}',
        b'{"a": 1, "a": 2, "b": [1e-7, -0.0, 1E+2, null, true]}',
        b'{"first_name": "Ana\\ud800"}',  # a lone surrogate: read as the library does, refused later
        b'[NaN, Infinity]',
        b" \r\n{}\t",
    ]
    for body in bodies:
        value = parse_json(body)
        assert value == json.loads(body) or body.startswith(b"[NaN")
        assert repr(value) == repr(json.loads(body))  # the same types too: a big integer stays an int


@pytest.mark.parametrize(("body", "kind"), [
    (b"{not json", "json_invalid"),
    (b'{"a": 1,}', "json_invalid"),
    ("\u00e9".encode("latin-1"), "utf8_invalid"),
    (b"[" * 100_000 + b"]" * 100_000, "json_too_deep"),
])
def test_a_body_that_is_not_json_is_one_problem(body, kind):
    with pytest.raises(InvalidInput) as raised:
        parse_json(body)
    assert [problem.type for problem in raised.value.problems] == [kind]


def test_the_hot_routes_are_exactly_the_single_segment_render_and_the_trigger():
    assert route_of("/v1/render/welcome") == ("render", "welcome")
    assert route_of("/v1/trigger") == ("trigger", None)
    for path in ("/v1/render/", "/v1/render/welcome/", "/v1/render/welcome/batch", "/v1/render/../x",
                 "/v1/trigger/", "/v1/templates", "/v1/renders/welcome"):
        assert route_of(path) is None, path
