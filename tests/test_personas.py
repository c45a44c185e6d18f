from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from renderer import Engine, TemplateError
from renderer.audience.features import derive
from renderer.audience.personas import dump_personas, load_personas, parse_personas, slug
from renderer.base.errors import PersonaFileError
from renderer.base.models import Profile
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW

PERSONA_TEMPLATE = """\
description: Persona-specific content, for the tests.
subject: "Hello {{ FirstName }}"
preheader: "{% if Persona %}{{ Persona.name }}{% else %}no persona{% endif %}"
blocks:
  - block: header
  - block: text
    show_if: "'persona:frequent_high_spenders' in Segments"
    params:
      heading: Early access for our best customers
      body: "<p>You are one of our {{ Persona.name }}.</p>"
  - block: text
    show_if: "'persona:new_customers' in Segments"
    params:
      heading: Start here
      body: "<p>Three things new customers love.</p>"
  - block: text
    show_if: "Persona and Persona.slug == 'lapsed_regulars'"
    params:
      heading: We miss you
      body: "<p>Here is what is new since your last visit.</p>"
  - block: footer
"""


def data(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(tmp_path: Path, content: dict | str) -> Path:
    path = tmp_path / "personas.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


@pytest.fixture()
def persona_content(content_copy: Path) -> Path:
    (content_copy / "templates" / "persona_demo.yaml").write_text(PERSONA_TEMPLATE, encoding="utf-8")
    return content_copy


def persona_engine(content: Path, personas: Path | None, **options) -> Engine:
    return Engine(templates_dir=content / "templates", blocks_dir=content / "blocks", personas=personas,
                  **options)


# --- the file ---------------------------------------------------------------


def test_the_file_round_trips(planted_personas):
    personas = load_personas(planted_personas)
    assert dump_personas(personas.spec) == planted_personas.read_text(encoding="utf-8")
    assert sorted(personas.names) == ["Frequent High-Spenders", "Lapsed Regulars", "New Customers"]
    assert "persona:frequent_high_spenders" in personas.segments


def test_slugs_are_segment_friendly():
    assert slug("Frequent High-Spenders") == "frequent_high_spenders"
    assert slug("  Lapsed   Regulars! ") == "lapsed_regulars"
    assert slug("Clientes Nuevos, más gasto") == "clientes_nuevos_más_gasto"
    assert slug("--") == ""


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(format="something-else"), r'not a personas file \(expected "format": "renderer-personas"\)'),
    (lambda d: d.update(version=2), "personas file version 2 is not supported"),
    (lambda d: d["personas"][1]["centroid"].pop(), r"personas.1 \('.*'\): centroid has 5 values for 6 features"),
    (lambda d: d["scaler"]["scale"].__setitem__(2, 0), "scaler.scale.2: Input should be greater than 0"),
    (lambda d: d["scaler"]["mean"].append(1.0), "scaler.mean has 7 values for 6 features"),
    (lambda d: d["features"][0].update(name="recency"), "unknown feature 'recency'"),
    (lambda d: d["features"][1].update(transform="identity"),
     "feature 'frequency' has transform 'identity', this version uses 'log1p'"),
    (lambda d: d["personas"][2].update(name=d["personas"][0]["name"].upper()),
     "personas.2: name .* gives the same segment 'persona:.*' as"),
    (lambda d: d["personas"][0].update(name="!!"), "personas.0: name '!!' has no letters or digits"),
    (lambda d: d["personas"][0].pop("size"), "personas.0.size: Field required"),
    (lambda d: d["personas"][0].update(colour="red"), "personas.0.colour: Extra inputs are not permitted"),
    (lambda d: d["fit"].update(window_days="a year"), "fit.window_days: Input should be a valid integer"),
    (lambda d: d.update(personas=[]), "personas: List should have at least 1 item"),
])
def test_a_corrupted_or_mismatched_file_names_the_problem(planted_personas, tmp_path, change, message):
    content = data(planted_personas)
    change(content)
    path = write(tmp_path, content)
    with pytest.raises(PersonaFileError, match=message) as error:
        load_personas(path)
    assert str(error.value).startswith(f"{path}: ")


def test_broken_json_names_the_line(planted_personas, tmp_path):
    text = planted_personas.read_text(encoding="utf-8")
    path = write(tmp_path, text[: len(text) // 2])
    with pytest.raises(PersonaFileError, match=r"personas.json:\d+: not valid JSON") as error:
        load_personas(path)
    assert error.value.lineno and error.value.lineno > 10


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(PersonaFileError, match="cannot read personas file"):
        load_personas(tmp_path / "nope.json")


def test_the_error_is_in_the_family_and_survives_pickling(tmp_path):
    with pytest.raises(PersonaFileError) as caught:
        load_personas(write(tmp_path, "[1, 2]"))
    error = caught.value
    assert isinstance(error, TemplateError) and isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is PersonaFileError and str(copy) == str(error)


def test_assignment_needs_neither_numpy_nor_scikit_learn(planted_personas):
    code = ("import sys, renderer; from renderer import Engine; "
            f"e = Engine(personas={str(planted_personas)!r}); "
            "e.render('welcome', profile={'id': 'a', 'email': 'a@example.com'}); "
            "print(sorted(m for m in ('numpy', 'sklearn', 'matplotlib', 'scipy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- per recipient --------------------------------------------------------------


def test_nearest_persona_of_the_fixture_profiles(planted_personas, fixtures):
    personas = load_personas(planted_personas)

    def nearest(name: str) -> str:
        return personas.nearest(derive(Profile.model_validate(fixtures.profile(name)), FIXTURE_NOW)).name

    assert nearest("frequent_high_spender") == "Frequent High-Spenders"
    assert nearest("new_customer") == "New Customers"
    assert nearest("lapsed") == "Lapsed Regulars"


def test_a_render_shows_persona_specific_blocks(persona_content, planted_personas, fixtures):
    engine = persona_engine(persona_content, planted_personas)
    vip = engine.render("persona_demo", profile=fixtures.profile("frequent_high_spender"), now=FIXTURE_NOW)
    new = engine.render("persona_demo", profile=fixtures.profile("new_customer"), now=FIXTURE_NOW)
    lapsed = engine.render("persona_demo", profile=fixtures.profile("lapsed"), now=FIXTURE_NOW)
    assert vip.segments[-1] == "persona:frequent_high_spenders"
    assert vip.segments[0] == "frequent_high_spender"  # a rule segment stays the primary one
    assert "Early access for our best customers" in vip.html and "Start here" not in vip.html
    assert "You are one of our Frequent High-Spenders." in vip.text
    assert vip.preheader == "Frequent High-Spenders"
    assert new.segments[-1] == "persona:new_customers"
    assert "Start here" in new.html and "Early access" not in new.html
    assert "persona:lapsed_regulars" in lapsed.segments and "We miss you" in lapsed.text
    assert [b for b in vip.blocks if b == "text"] == ["text"]
    persona_trace = vip.trace.rules[-1]
    assert persona_trace.segment == "persona:frequent_high_spenders" and persona_trace.matched
    assert persona_trace.when == "nearest persona"


def test_without_a_personas_file_persona_is_none(persona_content, fixtures):
    engine = persona_engine(persona_content, None)
    email = engine.render("persona_demo", profile=fixtures.profile("frequent_high_spender"), now=FIXTURE_NOW)
    assert email.preheader == "no persona"
    assert not [s for s in email.segments if s.startswith("persona:")]
    assert "Early access" not in email.html


def test_a_persona_named_on_the_profile_is_not_listed_twice(persona_content, planted_personas, fixtures):
    engine = persona_engine(persona_content, planted_personas)
    profile = dict(fixtures.profile("new_customer"), segments=["persona:new_customers"])
    email = engine.render("persona_demo", profile=profile, now=FIXTURE_NOW)
    assert email.segments.count("persona:new_customers") == 1


def test_renamed_persona_is_reloaded(persona_content, planted_personas, tmp_path, fixtures):
    path = write(tmp_path, data(planted_personas))
    engine = persona_engine(persona_content, path, reload_interval=0)
    profile = fixtures.profile("frequent_high_spender")
    assert "Early access" in engine.render("persona_demo", profile=profile, now=FIXTURE_NOW).html
    content = data(path)
    for persona in content["personas"]:
        if persona["name"] == "Frequent High-Spenders":
            persona["name"] = "Superfans"
    path.write_text(json.dumps(content), encoding="utf-8")
    os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 10**9))
    email = engine.render("persona_demo", profile=profile, now=FIXTURE_NOW)
    assert email.segments[-1] == "persona:superfans" and email.preheader == "Superfans"
    assert "Early access" not in email.html


def test_engine_fails_at_load_on_a_corrupted_file(persona_content, planted_personas, tmp_path):
    content = data(planted_personas)
    content["personas"][0]["centroid"] = content["personas"][0]["centroid"][:2]
    path = write(tmp_path, content)
    with pytest.raises(PersonaFileError, match="personas.0 .*centroid has 2 values for 6 features"):
        persona_engine(persona_content, path)


def test_engine_fails_at_load_when_the_rules_use_another_window(persona_content, planted_personas, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("features:\n  window_days: 180\nsegments: []\n", encoding="utf-8")
    with pytest.raises(PersonaFileError, match="fitted with a 365-day feature window, but the segment rules "
                                               "use 180 days"):
        persona_engine(persona_content, planted_personas, segments_file=rules)


def test_cli_render_with_personas(persona_content, planted_personas, tmp_path, capsys):
    profile = Path(__file__).resolve().parent.parent / "fixtures" / "profiles" / "lapsed.json"
    assert main(["--templates", str(persona_content / "templates"), "--blocks", str(persona_content / "blocks"),
                 "--personas", str(planted_personas), "render", "persona_demo", "--profile", str(profile),
                 "--now", "2026-11-15T12:00:00Z", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["segments"][-1] == "persona:lapsed_regulars" and "We miss you" in result["text"]


def test_cli_render_with_a_broken_personas_file_exits_2(tmp_path, capsys):
    path = write(tmp_path, "{")
    profile = Path(__file__).resolve().parent.parent / "fixtures" / "profiles" / "lapsed.json"
    assert main(["--personas", str(path), "render", "welcome", "--profile", str(profile)]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}:1: not valid JSON" in err and "Traceback" not in err


def test_cli_segments_report_counts_personas(planted_personas, fixtures, tmp_path, capsys):
    source = tmp_path / "audience.jsonl"
    source.write_text("".join(json.dumps(fixtures.profile(n)) + "\n" for n in fixtures.profile_names()))
    out = tmp_path / "segments.jsonl"
    assert main(["--personas", str(planted_personas), "segments", str(source), "--now", "2026-11-15T12:00:00Z",
                 "--out", str(out)]) == 0
    assert "persona:lapsed_regulars" in capsys.readouterr().out
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert rows["cust_fhs_0001"]["segments"][-1] == "persona:frequent_high_spenders"
    assert rows["cust_fhs_0001"]["primary"] == "frequent_high_spender"


def test_parse_personas_accepts_the_decoded_file(planted_personas):
    personas = parse_personas(data(planted_personas), "inline")
    assert personas.path == "inline" and personas.spec.fit.k == 3
