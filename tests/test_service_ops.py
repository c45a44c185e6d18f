"""``renderer serve`` in operation: reloads without downtime, several workers under a bounded load, budgets, CORS."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.preview.server import bind, url_of
from renderer.service.app import create_app
from renderer.service.config import ServiceConfig
from renderer.service.state import ServiceState

from conftest import FIXTURES, PROJECT_ROOT
from service_support import PATIENCE, ServiceProcess, wait_until

pytestmark = pytest.mark.xdist_group("service")

NOW = FIXTURE_NOW.isoformat()
BODY = {"profile": FIXTURES.profile("new_customer"), "now": NOW}


def copy_content(dest: Path) -> Path:
    for folder in ("templates", "blocks", "locales", "fixtures"):
        shutil.copytree(PROJECT_ROOT / folder, dest / folder)
    shutil.copy(PROJECT_ROOT / "segments.yaml", dest / "segments.yaml")
    return dest


def subject(client: httpx.Client) -> str:
    answer = client.post("/v1/render/welcome", json=BODY)
    assert answer.status_code == 200, answer.text
    return answer.json()["subject"]


def test_reload_swaps_new_content_in_and_keeps_the_old_when_a_template_breaks(tmp_path):
    content = copy_content(tmp_path / "content")
    template = content / "templates" / "welcome.yaml"
    original = template.read_text(encoding="utf-8")
    service = ServiceProcess(content=content)
    try:
        service.wait_ready()
        with service.client() as client:
            assert subject(client) == "Welcome to Fernhill, Priya"

            template.write_text(original.replace('subject: "Welcome to Fernhill', 'subject: "Hello from Fernhill'),
                                encoding="utf-8")
            answer = client.post("/v1/admin/reload")
            assert answer.status_code == 202 and answer.json()["generation"] == 1
            wait_until(lambda: client.get("/readyz").json()["generation"] == 2, "generation 2 served")
            assert subject(client) == "Hello from Fernhill, Priya"

            # A broken template: the reload fails, generation 2 keeps serving, /readyz says why.
            template.write_text(original.replace("blocks:", "blocks: [broken", 1), encoding="utf-8")
            client.post("/v1/admin/reload")
            wait_until(lambda: client.get("/readyz").json()["last_reload_error"] is not None, "the error shown")
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["generation"] == 2
            assert "welcome.yaml" in ready.json()["last_reload_error"]
            assert httpx.get(service.url + "/readyz").json()["last_reload_error"].startswith("the last reload failed")
            assert subject(client) == "Hello from Fernhill, Priya"

            # Fixed, and reloaded by SIGHUP this time.
            template.write_text(original, encoding="utf-8")
            service.process.send_signal(signal.SIGHUP)
            wait_until(lambda: client.get("/readyz").json()["generation"] == 3, "generation 3 served")
            assert client.get("/readyz").json()["last_reload_error"] is None
            assert subject(client) == "Welcome to Fernhill, Priya"
    finally:
        assert service.stop() == 0, service.output


async def bounded_load(url: str, key: str, *, requests: int, connections: int) -> list[str]:
    """``requests`` renders, ``connections`` at a time; the errors (anything but a 200 with a subject)."""
    errors: list[str] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=PATIENCE) as client:
        async def worker() -> None:
            for index in counter:
                template = ("welcome", "win_back", "recommendations")[index % 3]
                try:
                    answer = await client.post(f"/v1/render/{template}", json=BODY)
                    if answer.status_code != 200 or not answer.json().get("subject"):
                        errors.append(f"{answer.status_code}: {answer.text[:200]}")
                except httpx.HTTPError as error:
                    errors.append(repr(error))

        await asyncio.gather(*(worker() for _ in range(connections)))
    return errors


def test_two_workers_serve_a_bounded_load_without_errors_and_reload_together():
    service = ServiceProcess("--workers", "2")
    try:
        service.wait_ready(workers=2)
        # In a thread of its own: a test before this one in the same process may have left an event
        # loop running in this thread (Playwright's sync API does), and asyncio.run refuses to nest.
        with ThreadPoolExecutor(1) as thread:
            errors = thread.submit(asyncio.run, bounded_load(service.url, service.keys[0], requests=2000,
                                                              connections=16)).result()
        assert errors == []
        with service.client() as client:
            # /metrics sums every worker's counters, whichever worker answers.
            text = client.get("/metrics").text
            counts = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                      if line.startswith("renderer_renders_total{")]
            assert sum(counts) == 2000, text
            pids = set()
            for _ in range(40):  # answers come from both workers (the kernel spreads the connections)
                with service.client() as fresh:
                    pids.add(fresh.get("/readyz").json()["pid"])
            start = len(service.lines)
            assert client.post("/v1/admin/reload").json()["scope"] == "every worker"
            service.wait_for(lambda line: "ready: generation 2" in line, count=2, start=start)
    finally:
        assert service.stop() == 0, service.output
    assert service.output.count("every language compiled") == 2


# --- in-thread servers for settings variants (the app itself, served by uvicorn on 127.0.0.1) -------

class ThreadServer:
    def __init__(self, config: ServiceConfig, state: ServiceState | None = None) -> None:
        self.app = create_app(config, state=state)
        self.sock = bind("127.0.0.1", 0)
        self.url = url_of(self.sock).rstrip("/")
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), "the server started")
        assert self.thread.is_alive()
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(PATIENCE)
        self.sock.close()


@pytest.fixture(scope="module")
def compiled_state():
    state = ServiceState(ServiceConfig(insecure_no_auth=True))
    state.reload()
    assert state.wait(PATIENCE) and state.ready, state.last_error
    return state


def test_a_render_past_its_time_budget_is_503(compiled_state):
    config = ServiceConfig(insecure_no_auth=True, time_budget=1e-6)
    state = ServiceState(config)
    state.served = compiled_state.served
    with ThreadServer(config, state) as server:
        answer = httpx.post(server.url + "/v1/render/welcome", json=BODY, timeout=PATIENCE)
        assert answer.status_code == 503 and answer.json()["code"] == "time_budget"
        assert answer.headers["retry-after"] == "1"
        assert 'renderer_failures_total{code="time_budget",endpoint="render"}' in httpx.get(server.url + "/metrics").text


def test_cors_answers_only_the_configured_origin(compiled_state):
    config = ServiceConfig(insecure_no_auth=True, cors_origins=("https://app.example",))
    state = ServiceState(config)
    state.served = compiled_state.served
    with ThreadServer(config, state) as server:
        def preflight(origin: str) -> httpx.Response:
            return httpx.options(server.url + "/v1/render/welcome", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type"})

        assert preflight("https://app.example").headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-origin" not in preflight("https://evil.example").headers


def test_with_cors_on_a_browser_render_gets_the_same_email_with_its_cors_header(compiled_state):
    # A request with an Origin goes through the CORS middleware and the router; one without takes the
    # hot path ahead of them: the same email either way, and the same errors.
    config = ServiceConfig(insecure_no_auth=True, cors_origins=("https://app.example",))
    state = ServiceState(config)
    state.served = compiled_state.served
    with ThreadServer(config, state) as server:
        browser = httpx.post(server.url + "/v1/render/welcome", json=BODY, timeout=PATIENCE,
                             headers={"Origin": "https://app.example"})
        direct = httpx.post(server.url + "/v1/render/welcome", json=BODY, timeout=PATIENCE)
        assert browser.status_code == direct.status_code == 200
        assert browser.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-origin" not in direct.headers
        assert browser.json() == direct.json()
        for headers in ({"Origin": "https://app.example"}, {}):
            missing = httpx.post(server.url + "/v1/render/nope", json=BODY, headers=headers, timeout=PATIENCE)
            assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
            wrong = httpx.get(server.url + "/v1/render/welcome", headers=headers, timeout=PATIENCE)
            assert wrong.status_code == 405 and wrong.headers["content-type"] == "application/problem+json"


def test_broken_content_at_start_is_not_ready_and_says_why(tmp_path):
    content = copy_content(tmp_path / "content")
    path = content / "templates" / "welcome.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("blocks:", "blocks: [broken", 1), encoding="utf-8")
    config = ServiceConfig(content=str(content), insecure_no_auth=True)
    with ThreadServer(config) as server:
        state: ServiceState = server.app.state.service
        assert state.wait(PATIENCE)
        ready = httpx.get(server.url + "/readyz")
        assert ready.status_code == 503 and "welcome.yaml" in ready.json()["last_reload_error"]
        answer = httpx.post(server.url + "/v1/render/welcome", json=BODY)
        assert answer.status_code == 503 and answer.json()["code"] == "not_ready"
        assert httpx.get(server.url + "/healthz").status_code == 200


def test_the_recommendation_source_is_the_servers_never_the_requests(compiled_state):
    config = ServiceConfig(insecure_no_auth=True)
    state = ServiceState(config)
    state.served = compiled_state.served
    with ThreadServer(config, state) as server:
        answer = httpx.post(server.url + "/v1/render/recommendations",
                            json={**BODY, "recommendations_url": "http://127.0.0.1:9/steal"})
        assert answer.status_code == 422
        assert [e["loc"] for e in answer.json()["errors"]] == [["recommendations_url"]]
        assert json.loads(httpx.get(server.url + "/openapi.json").text)["components"]["schemas"][
            "RenderBody"]["additionalProperties"] is False


def test_a_batch_past_its_body_limit_answers_the_lines_before_it_and_says_so(compiled_state):
    line = json.dumps(FIXTURES.profile("new_customer")).encode() + b"\n"
    config = ServiceConfig(insecure_no_auth=True, max_batch_bytes=len(line) * 2 + 10)
    state = ServiceState(config)
    state.served = compiled_state.served

    def body():  # no Content-Length: the limit is counted as the lines arrive
        for _ in range(5):
            yield line

    with ThreadServer(config, state) as server:
        answer = httpx.post(server.url + "/v1/render/welcome/batch", content=body(), timeout=PATIENCE,
                            headers={"Content-Type": "application/x-ndjson"})
        records = [json.loads(text) for text in answer.text.splitlines()]
        assert [r["status"] for r in records] == ["rendered", "rendered", "failed"]
        assert records[-1]["kind"] == "BatchAborted" and records[-1]["line"] is None
        assert "over the limit" in records[-1]["error"]
        declared = httpx.post(server.url + "/v1/render/welcome/batch", content=line * 5, timeout=PATIENCE,
                              headers={"Content-Type": "application/x-ndjson"})
        assert declared.status_code == 413


def test_metrics_show_recommendation_source_errors_and_the_open_breaker():
    with socket.socket() as probe:  # a port with nothing listening: every fetch is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ServiceConfig(insecure_no_auth=True,
                           recommendations_url=f"http://127.0.0.1:{port}/recs/{{profile_id}}?limit={{limit}}")
    with ThreadServer(config) as server:
        state: ServiceState = server.app.state.service
        assert state.wait(PATIENCE) and state.ready, state.last_error
        for number in range(6):  # the breaker opens after 5 consecutive failures
            person = {**FIXTURES.profile("new_customer"), "id": f"c{number}"}
            answer = httpx.post(server.url + "/v1/render/recommendations", json={"profile": person, "now": NOW},
                                timeout=PATIENCE)
            assert answer.status_code == 200
            assert any(w.startswith("recommendations unavailable") for w in answer.json()["warnings"])
        text = httpx.get(server.url + "/metrics").text
        assert "renderer_recommendation_errors_total 6.0" in text
        assert "renderer_recommendation_breaker_open 1.0" in text
