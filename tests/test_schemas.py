"""The exported JSON Schemas: current, valid, and in agreement with the engine's validation."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from renderer import InvalidInput
from renderer.base.models import Event, Profile, parse, parse_products
from renderer.cli.content import SCHEMA_NAMES
from renderer.cli.main import main
from renderer.content.fixtures import FixtureSet
from renderer.devtools.schemas import SCHEMAS, json_schema, schema_text

from conftest import PROJECT_ROOT
from profiles import audience

SCHEMA_DIR = PROJECT_ROOT / "schemas"


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(name), format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_the_committed_schemas_are_current_and_valid(name):
    committed = SCHEMA_DIR / f"{name}.schema.json"
    assert committed.read_text(encoding="utf-8") == schema_text(name), \
        f"{committed} is out of date: run `renderer schema --out schemas` and review the change"
    jsonschema.Draft202012Validator.check_schema(json.loads(committed.read_text(encoding="utf-8")))


def test_every_fixture_passes_its_schema():
    fixtures = FixtureSet.default()
    for name in fixtures.profile_names():
        validator("profile").validate(fixtures.profile(name))
    for path in sorted((fixtures.root / "recommendations").glob("*.json")):
        validator("recommendations").validate(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted((fixtures.root / "events").glob("*.json")):
        validator("event").validate(json.loads(path.read_text(encoding="utf-8")))


GOOD = {"id": "c1", "email": "ana@example.com", "first_name": "Ana",
        "orders": [{"id": "o1", "placed_at": "2026-10-01T10:00:00Z", "total": 48, "currency": "EUR",
                    "items": [{"product_id": "p1", "name": "Mug", "price": 48}]}]}


@pytest.mark.parametrize("change", [
    {"email": "not an address"},
    {"id": ""},
    {"colour": "green"},
    {"locale": "english please"},
    {"location": {"country": "USA"}},
    {"orders": [{"id": "o1", "placed_at": "2026-10-01T10:00:00Z", "total": -1}]},
    {"orders": [{"id": "o1", "placed_at": "2026-10-01T10:00:00Z", "total": 5, "currency": "eur"}]},
    {"orders": [{"id": "o1", "placed_at": "yesterday", "total": 5}]},
    {"engagement": {"opens": -3}},
    {"consent": {"email_marketing": "maybe"}},
])
def test_what_the_schema_refuses_the_engine_refuses(change):
    bad = {**GOOD, **change}
    assert list(validator("profile").iter_errors(bad)), "the schema lets it through"
    with pytest.raises(InvalidInput):
        parse(Profile, bad, what="profile")


def test_what_the_schema_accepts_the_engine_accepts():
    validator("profile").validate(GOOD)
    parse(Profile, GOOD, what="profile")
    event = json.loads((PROJECT_ROOT / "fixtures/events/cart_abandoned.json").read_text(encoding="utf-8"))
    parse(Event, event, what="event")
    with pytest.raises(InvalidInput):
        parse_products([{"id": "p", "name": "", "url": "https://x.example/p", "price": 1}])
    assert list(validator("product").iter_errors({"id": "p", "name": "", "url": "https://x.example/p", "price": 1}))


def test_batch_lines_and_records_match_their_schemas(tmp_path, capsys):
    source = audience(tmp_path / "in.jsonl", 12, broken_lines={3: '{"id": "torn', 5: json.dumps(
        {"id": "e", "email": "bad"})})
    lines = source.read_text(encoding="utf-8").splitlines()
    request = {"id": "req-1", "profile": dict(GOOD, id="c9", consent={"email_marketing": False})}
    source.write_text("\n".join(lines + [json.dumps(request)]) + "\n", encoding="utf-8")
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if number != 3:  # the torn line is not JSON at all
            data = json.loads(line)
            errors = list(validator("batch-line").iter_errors(data))
            assert bool(errors) == (number == 5), (number, errors[:1])
    out = tmp_path / "out.jsonl"
    main(["batch", "welcome", "--profiles", str(source), "--out", str(out), "--now", "2026-11-15T12:00:00Z"])
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["status"] for r in records} == {"rendered", "skipped", "failed"}
    for record in records:
        validator("batch-record").validate(record)


def test_schema_command(capsys, tmp_path):
    assert main(["schema", "event"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Event"
    assert main(["schema", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.schema.json" for n in SCHEMAS)
    assert main(["schema"]) == 2
    assert "name a schema (profile, product" in capsys.readouterr().err


def test_the_schema_command_offers_every_schema_without_importing_them():
    assert SCHEMA_NAMES == tuple(SCHEMAS)
    # Building the parser (every command does) leaves pydantic and the models unimported.
    probe = ("import sys; from renderer.cli.main import build_parser; build_parser(); "
             "print(sorted(m for m in ('pydantic', 'renderer.base.models', 'renderer.devtools.schemas') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          cwd=PROJECT_ROOT)
    assert done.stdout.strip() == "[]"
