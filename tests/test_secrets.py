"""Recommendation API secrets never reach warnings, errors, logs or output.

The secrets sit in every place a caller may put them: request headers, the
query string and the URL's userinfo. Each scenario runs against a real
server on 127.0.0.1 with every logger at DEBUG.
"""

from __future__ import annotations

import logging
import pickle
from contextlib import nullcontext

import pytest

from renderer import Engine, RenderAborted, RenderRequest, render_many
from renderer.content.fixtures import FIXTURE_NOW
from renderer.sources import HttpRecommendationSource, RecommendationUnavailable
from renderer.sources.redact import redact

from scripted_server import Reply, ScriptedServer

SECRETS = ("HEADERSECRET", "BEARERSECRET", "QUERYSECRET", "PASSWORDSECRET")
PRODUCTS = [{"id": f"P{i}", "name": f"Product {i}", "url": f"https://shop.example/p/{i}", "price": 10}
            for i in range(4)]
PROFILE = {"id": "c1", "email": "ana@example.com"}


def source(server: ScriptedServer, **options) -> HttpRecommendationSource:
    host = server.url.removeprefix("http://")
    return HttpRecommendationSource(
        f"http://apiuser:PASSWORDSECRET@{host}/recs/{{profile_id}}?limit={{limit}}&key=QUERYSECRET",
        headers={"X-Api-Key": "HEADERSECRET", "Authorization": "Bearer BEARERSECRET"},
        cache_ttl=0, retries=1, backoff=0.001, **{"budget": 30.0, "timeout": (10.0, 10.0), **options})


SCENARIOS = {
    "server_error": [Reply(503), Reply(503)],
    "retry_then_success": [Reply(503), Reply(body=PRODUCTS)],
    "not_json": [Reply(body=b"{oops")],
    "invalid_products": [Reply(body=[{"id": "x"}])],
    "not_found": [Reply(404)],
    "too_slow": [Reply(body=PRODUCTS, delay=60)],  # far past any budget; cut short at the end
}


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text[:300])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_secrets_stay_out_of_warnings_errors_logs_and_output(caplog, scenario):
    caplog.set_level(logging.DEBUG)
    with ScriptedServer(*SCENARIOS[scenario]) as server:
        # Generous budgets (a busy machine must not turn an answer into a timeout), but a short
        # one where the server is too slow on purpose.
        budget = {"budget": 0.3, "timeout": (0.3, 0.3)} if scenario == "too_slow" else {}
        engine = Engine(recommendations=source(server, **budget))
        email = engine.render("welcome", profile=PROFILE, now=FIXTURE_NOW)
        expected = nullcontext() if scenario == "retry_then_success" else pytest.raises(RenderAborted)
        with expected as aborted:
            engine.render("welcome", profile=PROFILE, now=FIXTURE_NOW, require_recommendations=True)
        results = list(render_many([RenderRequest("welcome", PROFILE, now=FIXTURE_NOW)], engine=engine))
    assert server.requests, "the API was called"
    path, headers = server.requests[0]
    assert "QUERYSECRET" in path and headers["X-Api-Key"] == "HEADERSECRET", "the secrets were sent"
    errors = []
    if aborted is not None:
        errors = [str(aborted.value), repr(aborted.value), str(pickle.loads(pickle.dumps(aborted.value)))]
    logged = [record.getMessage() for record in caplog.records]
    assert_no_secret(*email.warnings, email.html, email.text, *errors, *logged, repr(results),
                     repr(engine.recommendations))
    assert any("127.0.0.1" in line for line in logged), "urllib3 did log the requests"


def test_a_failure_reason_names_the_host_only():
    with ScriptedServer(Reply(500)) as server:
        with pytest.raises(RecommendationUnavailable) as caught:
            source(server).fetch(_profile(), 2)
    reason = caught.value.reason
    assert reason.startswith(server.url.removeprefix("http://") + ": HTTP 500")
    assert_no_secret(reason, "apiuser")


def test_redact_removes_queries_and_userinfo():
    assert redact("http://u:p@h:1/x?key=s&a=b") == "http://[redacted]@h:1/x?[redacted]"
    assert redact("Incremented Retry for (url='/recs/c?key=s')") == "Incremented Retry for (url='/recs/c?[redacted]')"
    assert redact("no url here") == "no url here"


def _profile():
    from renderer.base.models import Profile, parse

    return parse(Profile, PROFILE, what="profile")

