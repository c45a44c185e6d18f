"""Broken inputs: the project's errors list every problem by field path, in Python and on the command line."""

from __future__ import annotations

import json
import pickle

import pytest

from renderer import Engine, Failed, InvalidInput, RenderRequest, TemplateError, TemplateNotFound, render_many
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PROFILES, PROJECT_ROOT, TEMPLATES

GOOD = {"id": "c1", "email": "ana@example.com"}
PRODUCT = {"id": "P1", "name": "Mug", "url": "https://shop.example/p/1", "price": 12}

BAD_REQUESTS = {
    "wrong_types": (
        {"profile": {"id": 5, "email": ["ana@example.com"], "first_name": {"x": 1}, "orders": "many",
                     "engagement": {"opens": -1}, "consent": {"email_marketing": "perhaps"}}},
        ["profile.id", "profile.email", "profile.first_name", "profile.orders", "profile.engagement.opens",
         "profile.consent.email_marketing"]),
    "missing_fields": (
        {"profile": {}, "recommendations": [{"id": "P1"}], "event": {"cart": {"items": [{}]}}},
        ["profile.id", "profile.email", "recommendations.0.name", "recommendations.0.url",
         "recommendations.0.price", "event.type", "event.occurred_at", "event.cart.items.0.product"]),
    "nested_and_unknown": (
        {"profile": dict(GOOD, colour="red", orders=[{"id": "o", "placed_at": "yesterday", "total": "lots",
                                                      "items": [{"product_id": "P", "name": "", "price": -1}]}]),
         "recommendations": [dict(PRODUCT, price="NaN"), dict(PRODUCT, currency="dollars")]},
        ["profile.colour", "profile.orders.0.placed_at", "profile.orders.0.total", "profile.orders.0.items.0.price",
         "recommendations.0.price", "recommendations.1.currency"]),
    "not_even_objects": (
        {"profile": "c1", "recommendations": "P1,P2", "event": 42},
        ["profile", "recommendations", "event"]),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_invalid_input_lists_every_problem_by_path(engine, case):
    request, expected = BAD_REQUESTS[case]
    with pytest.raises(InvalidInput) as caught:
        engine.render("welcome", now=FIXTURE_NOW, **request)
    error = caught.value
    assert sorted(p.loc for p in error.problems) == sorted(expected)
    for loc in expected:
        assert f"  - {loc}: " in str(error)
    assert pickle.loads(pickle.dumps(error)).problems == error.problems


@pytest.mark.parametrize("name", ["nope", "../templates/welcome", "Welcome", ""])
def test_unknown_template_names_raise_template_not_found_listing_the_known_ones(engine, name):
    with pytest.raises(TemplateNotFound) as caught:
        engine.render(name, profile=GOOD, now=FIXTURE_NOW)
    assert caught.value.available == engine.template_names()
    assert isinstance(caught.value, LookupError)


def test_every_broken_request_is_one_failed_record(engine):
    requests = [RenderRequest("welcome", now=FIXTURE_NOW, **request) for request, _ in BAD_REQUESTS.values()]
    requests += [RenderRequest("nope", GOOD, now=FIXTURE_NOW), RenderRequest("welcome", GOOD, now=FIXTURE_NOW)]
    results = list(render_many(requests, engine=engine))
    assert len(results) == len(requests)
    failed = [r for r in results if isinstance(r, Failed)]
    assert [f.kind for f in failed] == ["InvalidInput"] * 4 + ["TemplateNotFound"]
    assert failed[0].problems[0]["loc"] == ("profile", "id") and failed[0].problems[0]["msg"]
    assert results[-1].subject == "Welcome to Fernhill"


# --- the command line -------------------------------------------------------------------------------

class Files:
    """Input files for the command-line cases, written on first use."""

    def __init__(self, tmp_path) -> None:
        self.tmp = tmp_path

    def write(self, name: str, data) -> str:
        path = self.tmp / name
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return str(path)

    def missing(self, name: str) -> str:
        return str(self.tmp / name)

    @property
    def profile(self) -> str:
        return self.write("good.json", dict(GOOD, attributes={"n": 10**9}))

    @property
    def audience(self) -> str:
        return self.write("audience.jsonl", json.dumps(GOOD) + "\n")

    @property
    def hostile_templates(self) -> str:
        import shutil

        templates = self.tmp / "templates"
        if not templates.exists():
            shutil.copytree(PROJECT_ROOT / "templates", templates)
            (templates / "hostile.yaml").write_text(
                "subject: Hi\nblocks:\n  - block: text\n    params: {body: \"{{ range(Attributes.n)|length }}\"}\n")
        return str(templates)


CLI_CASES = {
    # name: (argv from the files, expected exit code, what the message must say)
    "render_bad_profile": (
        lambda f: ["render", "welcome", "--profile", f.write("bad.json", {"id": 5, "email": "nope",
                                                                          "orders": [{"id": "o"}]})],
        2, ["profile.id:", "profile.email:", "profile.orders.0.placed_at:", "profile.orders.0.total:"]),
    "render_bad_recommendations": (
        lambda f: ["render", "welcome", "--profile", f.profile,
                   "--recommendations", f.write("recs.json", [{"id": "P1", "price": "x"}])],
        2, ["recommendations.0.name:", "recommendations.0.url:", "recommendations.0.price:"]),
    "render_bad_event": (
        lambda f: ["render", "abandoned_cart", "--profile", f.profile, "--event", f.write("event.json", {"type": "x"})],
        2, ["event.type:", "event.occurred_at:"]),
    "render_broken_json": (
        lambda f: ["render", "welcome", "--profile", f.write("broken.json", '{"id": ')], 2, ["line 1 column 8"]),
    "render_missing_file": (
        lambda f: ["render", "welcome", "--profile", f.missing("none.json")], 2, ["No such file"]),
    "render_unknown_template": (
        lambda f: ["render", "nope", "--profile", f.profile], 2,
        ["unknown template 'nope'; available: abandoned_cart"]),
    "render_bad_now": (
        lambda f: ["render", "welcome", "--profile", f.profile, "--now", "soon"], 2,
        ["now: not an ISO 8601 timestamp: 'soon'"]),
    "render_template_fails_for_this_recipient": (
        lambda f: ["--templates", f.hostile_templates, "render", "hostile", "--profile", f.profile], 2,
        ["text.mjml: rendering the html of template 'hostile'", "OverflowError: Range too big"]),
    "templates_missing_folder": (
        lambda f: ["--templates", f.missing("none"), "templates"], 2, ["templates_dir", "is not a folder"]),
    "gallery_with_a_failing_template": (
        lambda f: ["--templates", f.hostile_templates, "gallery", "--out", f.missing("gallery")], 1,
        [f"rendered {len(TEMPLATES) * len(PROFILES)} of {(len(TEMPLATES) + 1) * len(PROFILES)} emails"]),
    "segments_missing_file": (lambda f: ["segments", f.missing("none.jsonl")], 2, ["No such file"]),
    "segments_hostile_rule": (
        lambda f: ["segments", f.audience, "--rules",
                   f.write("rules.yaml", "segments:\n  - name: x\n    when: orders.__class__\n")],
        2, ["rules.yaml:2: segment 'x': '__class__' is not allowed"]),
    "segments_fit_too_few": (
        lambda f: ["segments", "fit", f.audience, "--k", "2", "--out", f.missing("p.json")], 2,
        ["cannot form 2 personas"]),
    "batch_unknown_template": (
        lambda f: ["batch", "nope", "--profiles", f.audience, "--out", f.missing("o.jsonl")], 2,
        ["unknown template 'nope'"]),
    "batch_missing_profiles": (
        lambda f: ["batch", "welcome", "--profiles", f.missing("none.jsonl"), "--out", f.missing("o.jsonl")], 2,
        ["No such file"]),
    "fixtures_negative_count": (
        lambda f: ["fixtures", "generate", "--count", "-1", "--out", f.missing("f.jsonl")], 2,
        ["count must be a non-negative integer"]),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_prints_errors_plainly_and_exits_non_zero(tmp_path, capsys, case):
    argv, code, messages = CLI_CASES[case]
    assert main(argv(Files(tmp_path))) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.startswith("error: ")
    for message in messages:
        assert message in out + err, err


@pytest.mark.parametrize("case", ["render_bad_profile", "render_template_fails_for_this_recipient",
                                  "segments_hostile_rule", "batch_unknown_template"])
def test_cli_debug_shows_the_exception(tmp_path, case):
    argv, _, _ = CLI_CASES[case]
    with pytest.raises((InvalidInput, TemplateError, TemplateNotFound)):
        main(["--debug", *argv(Files(tmp_path))])


def test_batch_reports_bad_lines_as_failed_records(tmp_path, capsys):
    profiles = Files(tmp_path).write("mixed.jsonl", "\n".join([json.dumps(GOOD), "{not json", json.dumps({"id": 5})]))
    out = tmp_path / "out.jsonl"
    assert main(["batch", "welcome", "--profiles", profiles, "--out", str(out), "--now", "2026-11-15T12:00:00Z"]) == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in records] == ["rendered", "failed", "failed"]
    assert "not JSON" in records[1]["error"]
    assert [(p["loc"], p["msg"]) for p in records[2]["problems"]] == [
        (["profile", "id"], "Input should be a valid string"), (["profile", "email"], "Field required")]
    assert "Traceback" not in capsys.readouterr().err


def test_engine_configuration_errors_are_project_errors(tmp_path):
    from renderer import RendererError

    with pytest.raises(RendererError, match="segments_file"):
        Engine(segments_file=tmp_path / "none.yaml")


@pytest.mark.parametrize("name", [None, 123, ["welcome"]])
def test_a_template_name_of_the_wrong_type_is_not_found(engine, name):
    with pytest.raises(TemplateNotFound):
        engine.render(name, profile=GOOD, now=FIXTURE_NOW)


def test_a_missing_profile_and_a_bad_clock_are_input_errors(engine):
    with pytest.raises(InvalidInput) as caught:
        engine.render("welcome", profile=None, now="tomorrow")
    assert [p.loc for p in caught.value.problems] == ["now", "profile"]


def test_a_batch_line_with_a_lone_surrogate_is_a_failed_record_not_a_crash(tmp_path, capsys):
    lines = [json.dumps(GOOD), '{"id": "x\\ud800", "email": "a@b.example"}', json.dumps(dict(GOOD, id="c2"))]
    profiles = Files(tmp_path).write("surrogates.jsonl", "\n".join(lines))
    out = tmp_path / "out.jsonl"
    assert main(["batch", "welcome", "--profiles", profiles, "--out", str(out)]) == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
    assert [(r["line"], r["status"]) for r in records] == [(1, "rendered"), (2, "failed"), (3, "rendered")]
    assert records[1]["id"] == "x\ud800" and records[1]["problems"][0]["loc"] == ["profile", "id"]


def test_invalid_input_errors_have_pydantics_shape_and_survive_pickling():
    import pickle

    with pytest.raises(InvalidInput) as caught:
        Engine().render("welcome", profile={"id": 7, "email": "nope", "orders": [{"id": "o1"}]}, now=FIXTURE_NOW)
    errors = caught.value.errors()
    by_loc = {e["loc"]: e for e in errors}
    assert by_loc[("profile", "email")] == {"type": "value_error", "loc": ("profile", "email"),
                                            "msg": "not a valid email address", "input": "nope"}
    assert by_loc[("profile", "id")]["type"] == "string_type" and by_loc[("profile", "id")]["input"] == 7
    assert ("profile", "orders", 0, "placed_at") in by_loc, "list indexes are ints, as in pydantic"
    assert by_loc[("profile", "orders", 0, "placed_at")]["input"] is None, "a whole object is not repeated"
    assert pickle.loads(pickle.dumps(caught.value)).errors() == errors


@pytest.mark.parametrize("error, code", [
    (InvalidInput("profile", []), "invalid_input"),
    (TemplateNotFound("nope"), "not_found"),
    (TemplateError("broken", "blocks/hero.mjml", 3), "template_error"),
])
def test_every_error_has_a_stable_code_and_the_cli_exit_code(error, code):
    assert error.code == code and error.exit_code == 2


def test_a_bug_is_not_passed_off_as_bad_input(monkeypatch):
    # A ValueError from inside the renderer is a bug: it must surface, not become "error: ..." and exit 2.
    import renderer.cli.content as content

    def broken(args):
        raise ValueError("a bug")

    monkeypatch.setattr(content, "cmd_templates", broken)
    with pytest.raises(ValueError, match="a bug"):
        main(["templates"])
