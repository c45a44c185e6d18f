"""Recommendation sources against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time

import pytest

from renderer import Engine, RenderAborted
from renderer.base.models import Profile, parse
from renderer.content.fixtures import FIXTURE_NOW
from renderer.sources import (
    HttpRecommendationSource,
    RecommendationUnavailable,
    RecordingSource,
    ReplaySource,
    StaticSource,
)

from scripted_server import Reply, ScriptedServer, TrickleServer

PRODUCTS = [{"id": f"P{i}", "name": f"Product {i}", "url": f"https://shop.example/p/{i}", "price": 10 + i}
            for i in range(6)]
PROFILE = parse(Profile, {"id": "cust/1", "email": "a@example.com", "first_name": "Ana"}, what="profile")



SLACK = 5.0
"""Seconds a busy machine may add to a 300 ms budget; each drip below lasts 17 s or more."""

def source(server: ScriptedServer, **options) -> HttpRecommendationSource:
    options.setdefault("cache_ttl", 0)
    # Generous, so that a busy machine never turns an answer into a timeout; the budget tests set their own.
    options.setdefault("budget", 30.0)
    options.setdefault("timeout", (10.0, 10.0))
    return HttpRecommendationSource(server.url + "/recs/{profile_id}?limit={limit}&key=SECRET", **options)


def test_success_returns_validated_products():
    with ScriptedServer(Reply(body={"products": PRODUCTS})) as server:
        products = source(server).fetch(PROFILE, 4)
    assert [p.id for p in products] == ["P0", "P1", "P2", "P3"]
    assert server.count == 1
    assert server.requests[0][0] == "/recs/cust%2F1?limit=4&key=SECRET"


def test_two_503s_then_200_succeeds_after_three_calls():
    with ScriptedServer(Reply(503), Reply(503), Reply(body=PRODUCTS)) as server:
        products = source(server, retries=2, backoff=0.001).fetch(PROFILE, 3)
    assert len(products) == 3 and server.count == 3


def test_404_is_not_retried():
    with ScriptedServer(Reply(404, body={"error": "unknown user"})) as server:
        with pytest.raises(RecommendationUnavailable, match="HTTP 404"):
            source(server, retries=3).fetch(PROFILE, 3)
    assert server.count == 1


def test_retries_stop_when_exhausted():
    with ScriptedServer(Reply(500)) as server:
        with pytest.raises(RecommendationUnavailable, match="HTTP 500 after 3 attempts"):
            source(server, retries=2, backoff=0.001).fetch(PROFILE, 3)
    assert server.count == 3


def test_a_server_slower_than_the_budget_falls_back_within_the_budget():
    # The server would answer after a minute; the 300 ms budget gives up long before
    # (bounded at 30 s here, so the verdict holds however busy the machine is).
    with ScriptedServer(Reply(body=PRODUCTS, delay=60.0)) as server:
        slow = source(server, budget=0.3, timeout=(0.3, 0.3))
        started = time.monotonic()
        with pytest.raises(RecommendationUnavailable, match="timed out"):
            slow.fetch(PROFILE, 3)
        elapsed = time.monotonic() - started
    assert elapsed < 30, f"took {elapsed:.1f} s: it waited for the answer instead of its budget"


# One byte every 100 ms: each socket read gets a byte long before its timeout, so only a deadline
# on the whole request stops it. Either drip would take 10+ s to finish; the budget is 300 ms.
DRIP = 0.1
PADDING = {"X-Padding": "x" * 100}
DRIPPING = {
    "headers": Reply(body=PRODUCTS[:1], headers=PADDING, drip_headers=DRIP),
    "body": Reply(body=PRODUCTS[:2], drip_body=DRIP),
    # Cut short, such a body would end where the cut ended it.
    "body without a length": Reply(body=PRODUCTS[:2], drip_body=DRIP, length=False),
}


def drip_seconds(reply: Reply) -> float:
    """How long the server would take to drip all of ``reply``."""
    body = reply.encoded_body()
    dripped = len(reply.head("HTTP/1.0", len(body))) if reply.drip_headers else len(body)
    return dripped * DRIP


@pytest.mark.parametrize("part", DRIPPING)
def test_a_dripping_server_cannot_stretch_the_budget(part):
    reply = DRIPPING[part]
    assert drip_seconds(reply) >= 10
    with ScriptedServer(reply) as server:
        dripping = source(server, budget=0.3, timeout=(0.3, 0.3))
        started = time.monotonic()
        with pytest.raises(RecommendationUnavailable, match="no complete answer within the 300 ms budget"):
            dripping.fetch(PROFILE, 3)
        elapsed = time.monotonic() - started
    print(f"dripped {part}: gave up after {elapsed * 1000:.0f} ms (the drip takes {drip_seconds(reply):.0f} s)")
    # The bound is budget + SLACK so that a busy machine cannot fail it; without a total deadline
    # the fetch lasts as long as the drip.
    assert elapsed < 0.3 + SLACK, f"took {elapsed:.1f} s: the drip stretched the 300 ms budget"


@pytest.mark.parametrize("part", DRIPPING)
def test_dripping_answers_are_failures_that_open_the_breaker(part):
    with ScriptedServer(DRIPPING[part]) as server:
        dripping = source(server, budget=0.3, timeout=(0.3, 0.3), retries=0, breaker_failures=3,
                          breaker_reset=60)
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(RecommendationUnavailable, match="no complete answer"):
                dripping.fetch(PROFILE, 3)
        elapsed = time.monotonic() - started
        assert server.count == 3
        with pytest.raises(RecommendationUnavailable, match="circuit open after 3 consecutive failures"):
            dripping.fetch(PROFILE, 3)
        assert server.count == 3, "an open circuit makes no calls"
    assert elapsed < 3 * (0.3 + SLACK), f"three dripped calls took {elapsed:.1f} s"


def test_a_retry_that_drips_is_cut_at_the_budget_too():
    # The retry opens a new connection (often on the descriptor number the first one freed).
    with ScriptedServer(Reply(503), DRIPPING["body"]) as server:
        dripping = source(server, budget=0.3, timeout=(0.3, 0.3), retries=1, backoff=0.001)
        started = time.monotonic()
        with pytest.raises(RecommendationUnavailable, match="no complete answer within the 300 ms budget"):
            dripping.fetch(PROFILE, 3)
        elapsed = time.monotonic() - started
        assert server.count == 2
    assert elapsed < 0.3 + SLACK, f"took {elapsed:.1f} s: the dripping retry stretched the 300 ms budget"


def test_a_dripped_tls_handshake_keeps_the_budget():
    # A TLS record header announcing 16 KB of handshake, then one byte per 100 ms (20 s in all).
    # A guard, not a reproduction: Python bounds a whole handshake by the socket timeout, which
    # the source clamps to the remaining budget, and the budget's cut must not change that.
    with TrickleServer(b"\x16\x03\x03\x40\x00" + b"\x00" * 200, DRIP) as server:
        https = HttpRecommendationSource(f"https://127.0.0.1:{server.port}/recs/{{profile_id}}", cache_ttl=0,
                                         budget=0.3, timeout=(10.0, 10.0), retries=0)
        started = time.monotonic()
        with pytest.raises(RecommendationUnavailable, match="no complete answer within the 300 ms budget"):
            https.fetch(PROFILE, 3)
        elapsed = time.monotonic() - started
        assert server.connections == 1
    print(f"dripped TLS handshake: gave up after {elapsed * 1000:.0f} ms (the drip takes 20 s)")
    assert elapsed < 0.3 + SLACK, f"took {elapsed:.1f} s: the handshake stretched the 300 ms budget"


def test_concurrent_dripped_fetches_each_keep_their_budget():
    with ScriptedServer(DRIPPING["body"]) as server:
        shared = source(server, budget=0.3, timeout=(0.3, 0.3), retries=0, breaker_failures=100)
        outcomes: list[tuple[str, float]] = []

        def fetch() -> None:
            started = time.monotonic()
            try:
                shared.fetch(PROFILE, 3)
                outcome = "answered"
            except RecommendationUnavailable as error:
                outcome = str(error)
            outcomes.append((outcome, time.monotonic() - started))

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [outcome for outcome, _ in outcomes] == [
        f"127.0.0.1:{server.httpd.server_address[1]}: timed out, no complete answer within the 300 ms budget"] * 4
    slowest = max(elapsed for _, elapsed in outcomes)
    assert slowest < 0.3 + SLACK, f"the slowest of four fetches took {slowest:.1f} s"


def test_after_a_dripped_answer_the_session_serves_the_next_fetch():
    # The same session (its adapter and pool) behind a short and a generous budget.
    with ScriptedServer(DRIPPING["body"], Reply(body=PRODUCTS)) as server:
        dripping = source(server, budget=0.3, timeout=(0.3, 0.3))
        with pytest.raises(RecommendationUnavailable, match="no complete answer"):
            dripping.fetch(PROFILE, 3)
        patient = source(server, session=dripping.session)
        assert len(patient.fetch(PROFILE, 3)) == 3
        assert server.count == 2


def test_retry_after_longer_than_the_budget_gives_up_at_once():
    with ScriptedServer(Reply(429, headers={"Retry-After": "3600"}), Reply(body=PRODUCTS)) as server:
        started = time.monotonic()
        with pytest.raises(RecommendationUnavailable, match="would exceed"):
            source(server, budget=0.3).fetch(PROFILE, 3)
        # It did not sleep for the hour asked (bounded at 60 s, whatever the machine's load).
        elapsed = time.monotonic() - started
        assert elapsed < 60, f"took {elapsed:.1f} s: it waited instead of giving up"
    assert server.count == 1, "no second request"


def test_short_retry_after_is_honoured():
    with ScriptedServer(Reply(429, headers={"Retry-After": "0"}), Reply(body=PRODUCTS)) as server:
        assert len(source(server).fetch(PROFILE, 2)) == 2
    assert server.count == 2


@pytest.mark.parametrize("reply,message", [
    (Reply(body=b"{not json"), "not JSON"),
    (Reply(body={"items": []}), "not a list of products"),
    (Reply(body=[{"id": "x"}]), "invalid products"),
    (Reply(body=b"[" + b" " * 600_000 + b"]"), "larger than"),
])
def test_bad_answers_are_failures_not_crashes(reply, message):
    with ScriptedServer(reply) as server:
        with pytest.raises(RecommendationUnavailable, match=message):
            source(server).fetch(PROFILE, 3)


def test_breaker_opens_after_n_failures_and_then_makes_no_calls():
    with ScriptedServer(Reply(503)) as server:
        # A reset time far longer than the calls below can take on any machine.
        flaky = source(server, retries=0, breaker_failures=3, breaker_reset=60)
        for _ in range(3):
            with pytest.raises(RecommendationUnavailable, match="HTTP 503"):
                flaky.fetch(PROFILE, 3)
        assert server.count == 3
        for _ in range(5):
            with pytest.raises(RecommendationUnavailable, match="circuit open"):
                flaky.fetch(PROFILE, 3)
        assert server.count == 3, "an open circuit makes no calls"


def test_after_the_reset_time_an_open_breaker_lets_one_trial_call_through():
    with ScriptedServer(Reply(503)) as server:
        flaky = source(server, retries=0, breaker_failures=1, breaker_reset=0.2)
        with pytest.raises(RecommendationUnavailable, match="HTTP 503"):
            flaky.fetch(PROFILE, 3)
        server.replies = [Reply(body=PRODUCTS)]
        # Waits out the reset time: the reset can only have passed by then, however busy the machine.
        time.sleep(0.3)
        assert len(flaky.fetch(PROFILE, 3)) == 3, "after the reset time one trial call goes through"
        assert server.count == 2


def test_cache_hit_makes_no_second_call():
    with ScriptedServer(Reply(body=PRODUCTS)) as server:
        cached = source(server, cache_ttl=60)
        first = cached.fetch(PROFILE, 4)
        second = cached.fetch(PROFILE, 4)
    assert [p.id for p in first] == [p.id for p in second]
    assert server.count == 1


def test_unreachable_server_fails_cleanly():
    unreachable = HttpRecommendationSource("http://127.0.0.1:9/recs/{profile_id}", retries=1, backoff=0.001,
                                           budget=30.0)
    with pytest.raises(RecommendationUnavailable, match="cannot connect"):
        unreachable.fetch(PROFILE, 3)


# --- in the engine ---------------------------------------------------------------------------

def test_engine_uses_the_source_and_a_payload_wins(fixtures):
    with ScriptedServer(Reply(body=PRODUCTS)) as server:
        engine = Engine(recommendations=source(server))
        email = engine.render("welcome", profile={"id": "c", "email": "c@example.com"}, now=FIXTURE_NOW)
        assert "Product 0" in email.html and not email.warnings
        given = engine.render("welcome", profile={"id": "c", "email": "c@example.com"}, now=FIXTURE_NOW,
                              recommendations=fixtures.recommendations("default"))
        assert "Product 0" not in given.html
        assert server.count == 1, "a given payload makes no call"


def test_templates_without_recommendations_make_no_call(content_copy):
    (content_copy / "templates" / "note.yaml").write_text(
        "subject: Hello\nblocks:\n  - block: header\n  - block: text\n    params: {body: Hi}\n  - block: footer\n")
    with ScriptedServer(Reply(body=PRODUCTS)) as server:
        engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks",
                        recommendations=source(server))
        engine.render("note", profile={"id": "c", "email": "c@example.com"}, now=FIXTURE_NOW)
        assert server.count == 0
        engine.render("welcome", profile={"id": "c", "email": "c@example.com"}, now=FIXTURE_NOW)
        assert server.count == 1


def test_failure_falls_back_to_bestsellers_with_a_safe_warning():
    with ScriptedServer(Reply(503)) as server:
        engine = Engine(recommendations=source(server, retries=0, headers={"X-Api-Key": "TOPSECRET"}))
        email = engine.render("welcome", profile={"id": "c", "email": "c@example.com"}, now=FIXTURE_NOW)
    assert "product_grid" in email.blocks
    bestsellers = json.loads((engine.layout.bestsellers).read_text())
    assert bestsellers[0]["name"] in email.html
    assert email.warnings == [f"recommendations unavailable: 127.0.0.1:{server.httpd.server_address[1]}: "
                              "HTTP 503 after 1 attempt; fallback used: bestsellers (4 products)"]
    assert "SECRET" not in email.warnings[0] and "TOPSECRET" not in email.warnings[0]


def test_a_dripping_api_costs_a_render_its_budget_and_falls_back():
    with ScriptedServer(DRIPPING["headers"]) as server:
        engine = Engine(recommendations=source(server, budget=0.3, timeout=(0.3, 0.3), retries=0))
        profile = {"id": "c", "email": "c@example.com"}
        # Compiles the template (a given payload makes no call), so that the render below only fetches.
        engine.render("welcome", profile=profile, now=FIXTURE_NOW, recommendations=PRODUCTS)
        started = time.monotonic()
        email = engine.render("welcome", profile=profile, now=FIXTURE_NOW)
        elapsed = time.monotonic() - started
    assert email.warnings == [f"recommendations unavailable: 127.0.0.1:{server.httpd.server_address[1]}: "
                              "timed out, no complete answer within the 300 ms budget; "
                              "fallback used: bestsellers (4 products)"]
    bestsellers = json.loads((engine.layout.bestsellers).read_text())
    assert bestsellers[0]["name"] in email.html
    assert server.count == 1
    assert elapsed < 0.3 + SLACK, f"the render took {elapsed:.1f} s: the drip stretched the 300 ms budget"


def test_required_recommendations_abort_the_render():
    with ScriptedServer(Reply(503)) as server:
        engine = Engine(recommendations=source(server, retries=0))
        with pytest.raises(RenderAborted) as caught:
            engine.render("welcome", profile={"id": "c", "email": "c@example.com"}, now=FIXTURE_NOW,
                          require_recommendations=True)
    assert caught.value.code == "recommendations_unavailable" and "HTTP 503" in caught.value.message


def test_a_broken_custom_source_costs_a_warning_not_the_email():
    class Broken:
        def fetch(self, profile, limit):
            raise KeyError("bug")

    email = Engine(recommendations=Broken()).render("welcome", profile={"id": "c", "email": "c@example.com"},
                                                    now=FIXTURE_NOW)
    assert email.warnings == ["recommendations unavailable: the source failed: KeyError; "
                              "fallback used: bestsellers (4 products)"]


def test_static_source_and_record_replay(tmp_path, fixtures):
    static = StaticSource(fixtures.root / "recommendations" / "default.json")
    assert len(static.fetch(PROFILE, 2)) == 2
    recording = tmp_path / "recording.json"
    with ScriptedServer(Reply(body=PRODUCTS), Reply(503)) as server:
        recorder = RecordingSource(source(server, retries=0), recording)
        live = Engine(recommendations=recorder).render("welcome", profile=PROFILE, now=FIXTURE_NOW)
        other = parse(Profile, {"id": "other", "email": "o@example.com"}, what="profile")
        with pytest.raises(RecommendationUnavailable):
            recorder.fetch(other, 3)
    replayed = Engine(recommendations=ReplaySource(recording)).render("welcome", profile=PROFILE, now=FIXTURE_NOW)
    assert replayed.html == live.html
    with pytest.raises(RecommendationUnavailable, match="HTTP 503"):
        ReplaySource(recording).fetch(other, 3)
    with pytest.raises(RecommendationUnavailable, match="no recorded answer"):
        ReplaySource(recording).fetch(parse(Profile, {"id": "new", "email": "n@example.com"}, what="p"), 3)


def test_source_options_are_validated():
    with pytest.raises(ValueError, match="profile_id"):
        HttpRecommendationSource("http://127.0.0.1/recs")
    with pytest.raises(TypeError, match="fetch"):
        Engine(recommendations=object())


def test_workers_get_their_own_copy_of_the_source(fixtures):
    import pickle

    with ScriptedServer(Reply(body=PRODUCTS)) as server:
        original = source(server, cache_ttl=60, breaker_failures=2)
        original.fetch(PROFILE, 2)
        copy = pickle.loads(pickle.dumps(original))
        assert copy.session is not original.session and len(copy.cache) == 0
        assert copy.breaker.fail_max == 2 and copy.headers == original.headers
        from renderer import RenderRequest, render_many

        engine = Engine(recommendations=original)
        requests = [RenderRequest("welcome", {"id": f"c{i}", "email": f"c{i}@example.com"}, now=FIXTURE_NOW)
                    for i in range(6)]
        results = list(render_many(requests, engine=engine, workers=2, chunk_size=2))
    assert all("Product 0" in r.html for r in results)
    assert server.count == 1 + 6, "each recipient fetched once, by a worker's own source"


def test_an_aborted_render_is_a_skip_in_a_batch(content_copy):
    from renderer import RenderRequest, Skipped, render_many

    policy = "recommendations: {required: true}\n"
    welcome = content_copy / "templates" / "welcome.yaml"
    welcome.write_text(policy + welcome.read_text())
    with ScriptedServer(Reply(503)) as server:
        engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks",
                        recommendations=source(server, retries=0))
        [result] = render_many([RenderRequest("welcome", {"id": "c", "email": "c@example.com"}, now=FIXTURE_NOW)],
                               engine=engine)
    assert isinstance(result, Skipped) and result.code == "recommendations_unavailable"
    assert "HTTP 503" in result.message
