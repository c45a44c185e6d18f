"""render_many on a real Dask LocalCluster (2 worker processes on 127.0.0.1)."""

from __future__ import annotations

import os
import socket

import pytest

from renderer import RenderRequest, render_many
from renderer.base.errors import ClusterError
from renderer.batch.dask.cluster import dask_client, local_cluster, map_ordered
from renderer.batch.dask.worker import WorkerJob
from renderer.content.fixtures import FIXTURE_NOW

# One Dask cluster at a time on two cores: these tests share one test process.
pytestmark = pytest.mark.xdist_group("dask")


def mixed_requests(fixtures) -> list:
    requests = [RenderRequest(t, fixtures.profile(p), fixtures.recommendations(p), now=FIXTURE_NOW)
                for t in ("welcome", "win_back", "recommendations") for p in fixtures.profile_names()]
    requests.insert(2, RenderRequest("welcome", {"id": "no-email"}, now=FIXTURE_NOW))
    requests.insert(5, {"template": "welcome", "profile": {"id": "x", "email": "x@example.com"}, "colour": 1})
    requests.insert(7, RenderRequest("no_such_template", fixtures.profile("minimal"), now=FIXTURE_NOW))
    requests.append(RenderRequest("welcome", dict(fixtures.profile("minimal"), id="optout",
                                                  consent={"email_marketing": False}), now=FIXTURE_NOW))
    return requests


def test_render_many_on_dask_gives_what_the_local_engine_gives(engine, fixtures, dask_client):
    requests = mixed_requests(fixtures)
    local = list(render_many(requests, engine=engine))
    on_dask = list(render_many(requests, engine=engine, backend="dask", chunk_size=3,
                               scheduler=dask_client.scheduler.address))
    assert len(on_dask) == len(requests)
    assert on_dask == local
    assert {type(r).__name__ for r in on_dask} == {"RenderedEmail", "Failed", "Skipped"}


def test_each_worker_compiles_once_and_keeps_its_engine(engine, fixtures, dask_client):
    requests = [RenderRequest("welcome", fixtures.profile(p), now=FIXTURE_NOW) for p in fixtures.profile_names()]
    key = WorkerJob.for_engine(engine).key

    def held(dask_worker=None):
        from renderer.batch.dask.worker import _engines

        entry = _engines.get(key)
        return None if entry is None else (id(entry.engine), sorted(entry.warmed))

    snapshots = []
    for _ in range(2):
        list(render_many(requests * 4, engine=engine, backend="dask", chunk_size=2,
                         scheduler=dask_client.scheduler.address))
        snapshots.append(dask_client.run(held))
    held_first = {worker: h for worker, h in snapshots[0].items() if h}
    assert held_first, "some worker holds an engine for the job"
    assert all(snapshots[1][worker] == h for worker, h in held_first.items()), "the second run reused them"
    assert all("welcome" in h[1] for h in snapshots[0].values() if h)


def test_render_many_validates_the_backend(engine):
    with pytest.raises(ValueError, match="backend"):
        list(render_many([], engine=engine, backend="spark"))
    with pytest.raises(ValueError, match="scheduler"):
        list(render_many([], engine=engine, scheduler="tcp://127.0.0.1:1"))


def test_an_unreachable_scheduler_is_a_clear_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(ClusterError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
            with dask_client(scheduler=f"tcp://127.0.0.1:{port}", timeout=1):
                pass


def test_a_chunk_that_kills_every_worker_is_reported_not_dropped(tmp_path):
    import dask
    from distributed import Client

    def deadly(chunk):
        if "poison" in chunk:
            os._exit(1)  # as a segfault in a C extension would
        return [f"ok:{item}" for item in chunk]

    # No second chance, so the test needs only one worker death to reach the give-up path.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), local_cluster(1) as cluster, \
            Client(cluster) as client:
        # One task at a time: with no second chance, a task that merely shared the dying worker
        # (queued there, or its result not yet fetched) would be given up with the poison.
        out = list(map_ordered(client, deadly, [["a"], ["poison"], ["b"]], window=1,
                               on_lost=lambda chunk, why: [f"lost:{item}" for item in chunk]))
    assert out == ["ok:a", "lost:poison", "ok:b"]



def test_each_worker_builds_its_own_recommendation_source_once(engine, fixtures, dask_client):
    from renderer import Engine
    from renderer.sources import RateLimitedSource, StaticSource

    source = RateLimitedSource(StaticSource(fixtures.recommendations("new_customer")), per_second=500, max_wait=1)
    limited = Engine(**dict(engine.config(), recommendations=source))
    requests = [RenderRequest("recommendations", fixtures.profile(p), now=FIXTURE_NOW)
                for p in fixtures.profile_names()] * 4
    key = WorkerJob.for_engine(limited).key

    def sources(dask_worker=None):
        from renderer.batch.dask.worker import _engines

        entry = _engines.get(key)
        held = None if entry is None else entry.engine.recommendations
        return None if held is None else (id(held), type(held).__name__, held.per_second)

    seen = []
    for _ in range(2):
        results = list(render_many(requests, engine=limited, backend="dask", chunk_size=2,
                                   scheduler=dask_client.scheduler.address))
        assert all(not r.warnings for r in results)
        seen.append(dask_client.run(sources))
    held_first = {worker: h for worker, h in seen[0].items() if h}
    assert held_first and all(seen[1][worker] == h for worker, h in held_first.items()), \
        "one source per worker, kept across tasks and calls"
    assert {v[1:] for v in seen[0].values() if v} == {("RateLimitedSource", 500)}
