from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from renderer import TemplateError
from renderer.errors import PersonaFileError
from renderer.features import derive
from renderer.fixtures import FIXTURE_NOW
from renderer.models import Profile
from renderer.personas import dump_personas, load_personas, parse_personas, slug

def data(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(tmp_path: Path, content: dict | str) -> Path:
    path = tmp_path / "personas.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path




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



# --- per recipient --------------------------------------------------------------


def test_nearest_persona_of_the_fixture_profiles(planted_personas, fixtures):
    personas = load_personas(planted_personas)

    def nearest(name: str) -> str:
        return personas.nearest(derive(Profile.model_validate(fixtures.profile(name)), FIXTURE_NOW)).name

    assert nearest("frequent_high_spender") == "Frequent High-Spenders"
    assert nearest("new_customer") == "New Customers"
    assert nearest("lapsed") == "Lapsed Regulars"











def test_parse_personas_accepts_the_decoded_file(planted_personas):
    personas = parse_personas(data(planted_personas), "inline")
    assert personas.path == "inline" and personas.spec.fit.k == 3
