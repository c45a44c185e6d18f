"""``renderer serve``: every endpoint and every error status, over real HTTP to a real server subprocess."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import textwrap

import httpx
import pytest

from renderer.base.errors import InvalidInput
from renderer.cli.main import build_parser, main
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.schemas import json_schema

from conftest import FIXTURES, PROJECT_ROOT
from service_support import PATIENCE, ServiceProcess, new_key, raw_request

pytestmark = pytest.mark.xdist_group("service")

NOW = FIXTURE_NOW.isoformat()
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server():
    service = ServiceProcess("--access-log", keys=[new_key(), new_key()])
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


def profile(name: str = "new_customer") -> dict:
    return FIXTURES.profile(name)


def render(http: httpx.Client, template: str, body: dict, **options) -> httpx.Response:
    return http.post(f"/v1/render/{template}", json=body, **options)


# --- start-up ---------------------------------------------------------------------------------------

def test_the_server_refuses_to_start_without_a_key(monkeypatch, capsys):
    monkeypatch.delenv("RENDERER_API_KEYS", raising=False)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "no API key configured" in err and "--insecure-no-auth" in err


def test_a_short_key_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("RENDERER_API_KEYS", "short")
    assert main(["serve", "--port", "0"]) == 2
    assert "shorter than 16 characters" in capsys.readouterr().err


def test_serve_binds_localhost_by_default_and_checks_its_options(monkeypatch, capsys):
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.workers, args.cors_origin) == ("127.0.0.1", 8080, 1, [])
    monkeypatch.setenv("RENDERER_API_KEYS", new_key())
    assert main(["serve", "--workers", "0"]) == 2
    assert main(["--templates", "templates", "serve"]) == 2
    assert main(["serve", "--time-budget", "0"]) == 2
    err = capsys.readouterr().err
    assert "--workers must be at least 1" in err and "use --content DIR" in err
    assert "time_budget must be more than 0" in err


def test_without_the_serve_extra_the_command_names_the_pip_install():
    # A finder that refuses the extra's libraries, as on an install without renderer[serve].
    code = textwrap.dedent("""
        import sys
        class Missing:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("prometheus_client", "uvicorn"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, Missing())
        from renderer.cli.main import build_parser, main
        sys.exit(main(["serve", "--insecure-no-auth", "--port", "0"]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)), timeout=PATIENCE)
    assert done.returncode == 2, done.stderr
    assert "pip install 'renderer[serve]'" in done.stderr and "Traceback" not in done.stderr


def test_health_and_readiness(server, http):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    anonymous = httpx.get(server.url + "/readyz")
    assert anonymous.status_code == 200 and anonymous.json()["ready"] is True
    assert "templates" not in anonymous.json()  # the detail is for key holders
    detail = http.get("/readyz").json()
    assert detail["generation"] == 1 and "welcome" in detail["templates"] and detail["last_reload_error"] is None


# --- renders -----------------------------------------------------------------------------------------

def test_render_returns_the_rendered_email(http, engine):
    answer = render(http, "welcome", {"profile": profile(), "now": NOW})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    expected = engine.render("welcome", profile=profile(), now=FIXTURE_NOW).to_dict()
    assert body == {"status": "rendered", **expected}
    assert "trace" not in body


def test_render_adds_the_trace_on_request(http):
    body = render(http, "welcome", {"profile": profile(), "now": NOW, "trace": True}).json()
    assert {"block": "header", "shown": True, "show_if": None} in body["trace"]["blocks"]
    assert all(set(rule) == {"segment", "matched", "when", "note"} for rule in body["trace"]["rules"])


def test_render_as_eml_is_the_mime_message(http):
    answer = render(http, "welcome", {"profile": profile(), "now": NOW, "format": "eml"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "message/rfc822"
    message = email.message_from_bytes(answer.content, policy=email.policy.default)
    assert message["Subject"] == "Welcome to Fernhill, Priya"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_invalid_input_is_422_with_every_problem_as_the_library_reports_it(http, engine):
    bad_profile = {"id": "", "email": "not-an-address", "orders": [{"id": "o1"}]}
    answer = render(http, "welcome", {"profile": bad_profile, "recommendations": [{"id": "p"}], "now": NOW})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    with pytest.raises(InvalidInput) as raised:
        engine.render("welcome", profile=bad_profile, recommendations=[{"id": "p"}], now=FIXTURE_NOW)
    assert problem["errors"] == json.loads(json.dumps(raised.value.errors()))
    assert problem["status"] == 422 and problem["code"] == "invalid_input"
    assert problem["type"] == "urn:renderer:problem:invalid_input"
    assert {tuple(e["loc"])[:2] for e in problem["errors"]} >= {("profile", "id"), ("profile", "email"),
                                                                ("recommendations", 0)}


def test_the_envelope_and_the_payload_problems_come_together(http):
    answer = render(http, "welcome", {"profile": {"id": "x", "email": "bad"}, "now": "yesterday",
                                      "format": "pdf", "colour": "red"})
    assert answer.status_code == 422
    locs = {tuple(e["loc"]) for e in answer.json()["errors"]}
    assert locs == {("now",), ("format",), ("colour",), ("profile", "email")}


def test_a_body_that_is_not_an_object_or_not_json_is_422(http):
    for content in (b"[1, 2]", b"{not json", "\u00e9".encode("latin-1")):
        answer = http.post("/v1/render/welcome", content=content, headers=JSON)
        assert answer.status_code == 422, content
        assert answer.json()["errors"][0]["type"] in ("model_type", "json_invalid", "utf8_invalid")


def test_unknown_template_is_404_listing_the_names(http):
    answer = render(http, "no_such_email", {"profile": profile()})
    assert answer.status_code == 404
    assert answer.json()["available"] == ["abandoned_cart", "browse_abandonment", "engaged_incentive",
                                          "recommendations", "welcome", "win_back"]
    assert http.get("/v1/nothing/here").status_code == 404


def test_an_abort_is_409_with_its_code(http):
    refusing = {**profile(), "consent": {"email_marketing": False}}
    answer = render(http, "welcome", {"profile": refusing, "now": NOW})
    assert answer.status_code == 409
    assert answer.json()["code"] == "no_consent"
    assert render(http, "welcome", {"profile": refusing, "now": NOW, "transactional": True}).status_code == 200


def test_an_oversize_body_is_413_with_or_without_a_length(http):
    huge = b'{"profile": {"id": "' + b"x" * (2 << 20) + b'"}}'
    assert http.post("/v1/render/welcome", content=huge, headers=JSON).status_code == 413

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        for start in range(0, len(huge), 65536):
            yield huge[start:start + 65536]

    answer = http.post("/v1/render/welcome", content=chunks(), headers=JSON)
    assert answer.status_code == 413 and answer.json()["limit"] == 1 << 20


def test_a_wrong_content_type_is_415(http):
    answer = http.post("/v1/render/welcome", content=json.dumps({"profile": profile()}),
                       headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415 and answer.json()["expected"] == "application/json"
    answer = http.post("/v1/render/welcome/batch", content=b"{}\n", headers=JSON)
    assert answer.status_code == 415 and answer.json()["expected"] == "application/x-ndjson"


def test_a_missing_or_wrong_key_is_401_and_both_keys_work(server):
    body = {"profile": profile(), "now": NOW}
    for key in (None, "not-the-key-at-all-0123456789", server.keys[0][:-1]):
        with server.client(key) as client:
            answer = render(client, "welcome", body)
            assert answer.status_code == 401, key
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert client.get("/metrics").status_code == 401
    for key in server.keys:  # two keys at once: one can be rotated out while the other serves
        with server.client(key) as client:
            assert render(client, "welcome", body).status_code == 200
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Basic {server.keys[0]}"}) as client:
        assert render(client, "welcome", body).status_code == 401


# --- triggers ----------------------------------------------------------------------------------------

def test_trigger_sends_or_skips_with_the_reason(http):
    event = FIXTURES.event("cart_abandoned")
    sent = http.post("/v1/trigger", json={"profile": profile("frequent_high_spender"), "event": event,
                                          "now": NOW})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "rendered" and sent.json()["template"] == "abandoned_cart"
    empty = FIXTURES.event("cart_abandoned_empty")
    skipped = http.post("/v1/trigger", json={"profile": profile("frequent_high_spender"), "event": empty,
                                             "now": NOW})
    assert skipped.status_code == 200
    assert skipped.json()["status"] == "skipped" and skipped.json()["code"]
    missing = http.post("/v1/trigger", json={"profile": profile()})
    assert missing.status_code == 422 and ["event"] in [e["loc"] for e in missing.json()["errors"]]


# --- content: templates and schemas --------------------------------------------------------------------

def test_templates_list_and_detail(http, engine):
    listed = http.get("/v1/templates").json()["templates"]
    assert [t["name"] for t in listed] == engine.template_names()
    detail = http.get("/v1/templates/abandoned_cart").json()
    compiled = engine.compiled("abandoned_cart")
    assert detail["tokens"] == sorted(compiled.assembled.tokens) and "CartItems" in detail["tokens"]
    assert detail["requires"]["event"] == "cart_abandoned"
    assert detail["requires"]["recommendations"] == {"required": False, "fallback": "bestsellers", "limit": 8}
    assert {"token": "CartItems", "on_missing": "skip"} in detail["requires"]["tokens"]
    assert http.get("/v1/templates/nope").status_code == 404


def test_schemas_are_those_of_schemas_folder(http):
    for name in ("profile", "event", "batch-line", "batch-record"):
        answer = http.get(f"/v1/schemas/{name}")
        assert answer.status_code == 200 and answer.json() == json_schema(name)
    missing = http.get("/v1/schemas/passwd")
    assert missing.status_code == 404 and "profile" in missing.json()["available"]


def test_openapi_is_generated_from_the_same_models(server):
    document = httpx.get(server.url + "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    components = document["components"]["schemas"]
    profile_schema = json_schema("profile")
    assert set(components["Profile"]["properties"]) == set(profile_schema["properties"])
    assert components["RenderBody"]["properties"]["profile"] == {"$ref": "#/components/schemas/Profile"}
    operation = document["paths"]["/v1/render/{template}"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "404", "409", "413", "415", "422"}
    assert "/v1/render/{template}/batch" in document["paths"] and "/v1/trigger" in document["paths"]


def test_metrics_count_renders_skips_and_failures(server, http):
    render(http, "welcome", {"profile": profile(), "now": NOW})
    render(http, "welcome", {"profile": {**profile(), "consent": {"email_marketing": False}}, "now": NOW})
    render(http, "welcome", {"profile": {"id": "x"}})
    text = http.get("/metrics").text
    assert 'renderer_renders_total{endpoint="render",template="welcome"}' in text
    assert 'renderer_skips_total{code="no_consent",endpoint="render"}' in text
    assert 'renderer_failures_total{code="invalid_input",endpoint="render"}' in text
    assert "renderer_request_seconds_bucket" in text and "renderer_recommendation_errors_total" in text


def test_cors_is_off_by_default(http):
    answer = http.options("/v1/render/welcome", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in answer.headers


# --- the batch -----------------------------------------------------------------------------------------

def test_a_batch_of_5000_lines_with_3_bad_ones_answers_every_line_in_order(http):
    people = [profile(name) for name in ("new_customer", "frequent_high_spender", "lapsed", "minimal")]
    bad = {1234: b"{not json", 2500: json.dumps({"id": "x", "email": "nope"}).encode(), 4999: b"[1, 2, 3]"}

    def lines():
        for number in range(1, 5001):
            if number in bad:
                yield bad[number] + b"\n"
            else:
                person = dict(people[number % len(people)], id=f"c{number}")
                yield json.dumps(person).encode() + b"\n"

    records = []
    with http.stream("POST", "/v1/render/win_back/batch", params={"now": NOW}, content=lines(),
                     headers={"Content-Type": "application/x-ndjson"}) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-ndjson"
        for line in answer.iter_lines():
            records.append(json.loads(line))
    assert len(records) == 5000
    assert [record["line"] for record in records] == list(range(1, 5001))
    failed = {record["line"]: record for record in records if record["status"] == "failed"}
    assert set(failed) == set(bad)
    assert failed[1234]["problems"][0]["type"] == "json_invalid"
    assert failed[2500]["problems"][0]["loc"] == ["profile", "email"]
    assert failed[4999]["problems"][0]["type"] == "dict_type"
    rendered = [r for r in records if r["status"] == "rendered"]
    assert rendered[0]["id"] == "c1" and rendered[0]["subject"] and rendered[0]["html"]
    assert len(rendered) + sum(r["status"] == "skipped" for r in records) == 4997


def test_a_lone_surrogate_in_the_input_gives_valid_json_answers(http):
    # The library refuses it by field path; the problem repeats the input, which UTF-8 cannot carry
    # as it is, so the answer writes it as the JSON escape it came as.
    person = json.dumps({**profile(), "first_name": "Ana"}).replace("Ana", "Ana\\ud800")
    answer = http.post("/v1/render/welcome", content=f'{{"profile": {person}}}'.encode(), headers=JSON)
    assert answer.status_code == 422 and "\\ud800" in answer.text
    problem = json.loads(answer.text)["errors"][0]
    assert problem["loc"] == ["profile", "first_name"] and problem["input"] == "Ana\ud800"
    answer = http.post("/v1/render/welcome/batch", content=person.encode() + b"\n",
                       headers={"Content-Type": "application/x-ndjson"})
    record = json.loads(answer.text)
    assert record["status"] == "failed" and record["problems"][0]["loc"] == ["profile", "first_name"]


def test_a_batch_for_an_unknown_template_is_404_before_anything_is_read(http):
    answer = http.post("/v1/render/nope/batch", content=b"{}\n", headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 404 and "welcome" in answer.json()["available"]


# --- hostile requests ----------------------------------------------------------------------------------

def test_hostile_requests_are_refused_and_no_key_is_logged(server, http):
    key = server.keys[0]
    off_by_one = key[:-1] + ("A" if key[-1] != "A" else "B")
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    ten_mb = b'{"profile": {"id": "' + b"x" * (10 << 20) + b'"}}'
    assert http.post("/v1/render/welcome", content=ten_mb, headers=JSON).status_code == 413
    assert http.post("/v1/trigger", content=ten_mb, headers=JSON).status_code == 413

    deep = b'{"profile": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = http.post("/v1/render/welcome", content=deep, headers=JSON)
    assert answer.status_code == 422 and answer.json()["errors"][0]["type"] == "json_too_deep"

    assert http.post("/v1/render/welcome", content=b"<xml/>", headers={"Content-Type": "application/xml"}
                     ).status_code == 415
    assert http.post("/v1/render/welcome", content=b"{}").status_code == 415  # no Content-Type at all

    for path in ("/v1/render/..%2F..%2Fetc%2Fpasswd", "/v1/render/../../etc/passwd",
                 "/v1/render/..%2Ftemplates%2Fwelcome", "/v1/templates/..%2Fpyproject",
                 "/v1/schemas/..%2F..%2Fschemas%2Fprofile", "/v1/render/%2e%2e/batch"):
        status, body = raw_request(server.url, "POST" if "render" in path else "GET", path, headers=auth,
                                   body=b"{}")
        assert status == 404, (path, status, body)
        assert b"root:" not in body and b"[project]" not in body

    with server.client(off_by_one) as client:
        assert render(client, "welcome", {"profile": profile()}).status_code == 401
    status, _ = raw_request(server.url, "GET", "/v1/templates", headers={"Authorization": f"Bearer {key} "})
    assert status == 200  # surrounding spaces are not part of a key
    status, _ = raw_request(server.url, "GET", "/v1/templates", headers={"Authorization": f"Bearer {key}x"})
    assert status == 401

    # A batch line of 2 MiB and a deep one are failed records; the lines around them render.
    lines = (json.dumps(profile()).encode() + b"\n" + b'{"id": "' + b"y" * (2 << 20) + b'"}\n'
             + b"[" * 100_000 + b"\n" + json.dumps(profile()).encode() + b"\n")
    answer = http.post("/v1/render/welcome/batch", content=lines, headers={"Content-Type": "application/x-ndjson"})
    records = [json.loads(line) for line in answer.text.splitlines()]
    assert [(r["line"], r["status"]) for r in records] == [(1, "rendered"), (2, "failed"), (3, "failed"),
                                                          (4, "rendered")]
    assert records[1]["problems"][0]["type"] == "line_too_long"
    assert records[2]["problems"][0]["type"] == "json_too_deep"

    marker = "/v1/templates?last-hostile-request"
    http.get(marker)
    server.wait_for(lambda line: marker in line)  # the access log has caught up with every request
    output = server.output
    assert "GET /v1/templates" in output  # the access log is on, and was read
    for secret in (*server.keys, off_by_one, key[:16]):
        assert secret not in output
