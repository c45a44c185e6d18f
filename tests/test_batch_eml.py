"""``renderer render --format eml`` and ``renderer batch --format eml`` (renderer/batch/eml.py)."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

import jsonschema
import pytest

from renderer.batch.eml import eml_name
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.schemas import json_schema

from conftest import PROJECT_ROOT
from profiles import audience

NOW = "2026-11-15T12:00:00Z"
PROFILE = str(PROJECT_ROOT / "fixtures/profiles/locale_de.json")


def parse(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


def parts(message) -> list[bytes]:
    return [part.get_payload(decode=True) for part in message.iter_parts()]


def canonical(text: str) -> bytes:
    return (text if text.endswith("\n") else text + "\n").replace("\n", "\r\n").encode("utf-8")


def test_render_eml_writes_the_message_with_the_brands_sender(engine, fixtures, tmp_path, capsys):
    out = tmp_path / "welcome.eml"
    assert main(["render", "browse_abandonment", "--profile", PROFILE, "--now", NOW, "--format", "eml",
                 "--event", str(PROJECT_ROOT / "fixtures/events/browse_abandoned.json"),
                 "--reply-to", "help@fernhill.example", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    message = parse(out.read_bytes())
    email = engine.render("browse_abandonment", profile=fixtures.profile("locale_de"),
                          event=fixtures.event("browse_abandoned"), now=FIXTURE_NOW)
    assert str(message["From"]) == "Fernhill <hello@fernhill.example>"
    assert str(message["To"]) == "Jonas Müller <jonas.mueller@example.com>"
    assert str(message["Reply-To"]) == "help@fernhill.example"
    assert message["Subject"] == email.subject == "Noch am Überlegen, Jonas?"
    assert message["Date"].datetime == FIXTURE_NOW
    assert parts(message) == [canonical(email.text), canonical(email.html)]
    assert b"\r\n" in out.read_bytes() and b"\n" not in out.read_bytes().replace(b"\r\n", b"")


def test_render_eml_to_standard_output_and_from_the_command_line(capsysbinary):
    assert main(["render", "welcome", "--profile", PROFILE, "--now", NOW, "--format", "eml",
                 "--from", "News <news@fernhill.example>"]) == 0
    message = parse(capsysbinary.readouterr().out)
    assert str(message["From"]) == "News <news@fernhill.example>"
    assert message["Message-ID"].endswith("@fernhill.example>")


@pytest.mark.parametrize("option,expected", [
    (["--from", "Fernhill"], "sender: not one email address"),
    (["--from", "a@fernhill.example\nBcc: b@example.com"], "sender: must not contain CR or LF"),
    (["--reply-to", "nobody"], "reply_to: not one email address"),
])
def test_render_eml_refuses_a_bad_address_by_name(capsys, option, expected):
    assert main(["render", "welcome", "--profile", PROFILE, "--format", "eml", *option]) == 2
    assert expected in capsys.readouterr().err


def test_without_a_sender_anywhere_eml_is_a_plain_error(content_copy, capsys):
    brand = content_copy / "blocks" / "brand.yaml"
    brand.write_text("\n".join(line for line in brand.read_text(encoding="utf-8").splitlines()
                               if not line.startswith("sender:")), encoding="utf-8")
    assert main(["--content", str(content_copy), "render", "welcome", "--profile", PROFILE,
                 "--format", "eml"]) == 2
    assert "no sender address: pass --from" in capsys.readouterr().err


def read_index(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "index.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_eml_writes_one_message_per_rendered_recipient(engine, tmp_path, capsys, workers):
    non_ascii = {"id": "../../etc/passwd", "email": "jürgen@example.de", "first_name": "Jürgen"}
    source = audience(tmp_path / "in.jsonl", 30, broken_lines={4: '{"id": "torn', 7: json.dumps(non_ascii)})
    out = tmp_path / "out"
    code = main(["batch", "welcome", "--profiles", str(source), "--out", str(out), "--format", "eml",
                 "--now", NOW, "--workers", workers, "--chunk-size", "4"])
    assert code == 1, "the torn line and the address that needs SMTPUTF8 failed"
    records = read_index(out)
    assert [r["line"] for r in records] == list(range(1, 31))
    assert records[3]["status"] == "failed" and "line 4: not JSON" in records[3]["error"]
    assert records[6]["status"] == "failed" and records[6]["problems"][0]["loc"] == ["to"]
    assert "internationalized addresses" in records[6]["error"]
    rendered = [r for r in records if r["status"] == "rendered"]
    skipped = [r for r in records if r["status"] == "skipped"]
    assert len(rendered) + len(skipped) == 28 and len(rendered) > 20
    assert all(r["code"] == "no_consent" and "file" not in r for r in skipped)
    assert sorted(p.name for p in out.iterdir()) == sorted([r["file"] for r in rendered] + ["index.jsonl"])
    lines = source.read_text(encoding="utf-8").splitlines()
    for record in rendered:
        assert "html" not in record and "text" not in record
        assert record["file"] == eml_name(record["line"], record["id"])
        message = parse((out / record["file"]).read_bytes())
        profile = json.loads(lines[record["line"] - 1])
        email = engine.render("welcome", profile=profile, now=FIXTURE_NOW)
        assert message["Subject"] == record["subject"] == email.subject
        assert message["Message-ID"] == record["message_id"]
        assert message["To"].addresses[0].addr_spec == profile["email"]
        assert parts(message) == [canonical(email.text), canonical(email.html)]
    schema = json_schema("eml-record")
    for record in records:
        jsonschema.validate(record, schema)
    assert f"rendered {len(rendered)}, skipped {len(skipped)}, failed 2" in capsys.readouterr().out


def test_batch_eml_resumes_after_the_last_record(tmp_path, capsys):
    source = audience(tmp_path / "in.jsonl", 12)
    args = ["batch", "welcome", "--profiles", str(source), "--format", "eml", "--now", NOW]
    complete = tmp_path / "complete"
    assert main(args + ["--out", str(complete)]) == 0
    # An interrupted run as a killed job leaves it: five records and a torn sixth in the
    # partial index, the sixth message written, a seventh half written under its temporary name.
    out = tmp_path / "out"
    out.mkdir()
    index = (complete / "index.jsonl").read_bytes().splitlines(keepends=True)
    (out / "index.jsonl.partial").write_bytes(b"".join(index[:5]) + index[5][:40])
    files = [json.loads(line)["file"] for line in index]
    for name in files[:6]:
        (out / name).write_bytes((complete / name).read_bytes())
    (out / f".{files[6]}.tmp").write_bytes(b"From: half")
    kept = {name: (out / name).stat().st_mtime_ns for name in files[:5]}
    capsys.readouterr()

    assert main(args + ["--out", str(out), "--resume"]) == 0
    assert "resumed after input line 5" in capsys.readouterr().out

    def without_ids(records):
        return [{k: v for k, v in r.items() if k != "message_id"} for r in records]

    assert without_ids(read_index(out)) == without_ids(read_index(complete))
    assert sorted(p.name for p in out.iterdir()) == sorted(files + ["index.jsonl"]), "no temporary file left"
    assert {name: (out / name).stat().st_mtime_ns for name in files[:5]} == kept, "not written twice"
    for name in files:
        assert parts(parse((out / name).read_bytes())) == parts(parse((complete / name).read_bytes()))


@pytest.mark.parametrize("option", [["--out", "-"], ["--out", "x", "--engine", "dask"]])
def test_batch_eml_needs_a_folder_and_the_local_engine(tmp_path, capsys, option):
    source = audience(tmp_path / "in.jsonl", 1)
    assert main(["batch", "welcome", "--profiles", str(source), "--format", "eml", *option]) == 2
    assert "--format eml writes a folder of files" in capsys.readouterr().err


@pytest.mark.parametrize("line,profile_id,name", [
    (1, "cust_0001", "000001-cust_0001.eml"),
    (42, "../../etc/passwd", "000042-etc_passwd.eml"),
    (7, "さくら", "000007-recipient.eml"),
    (1234567, "a.b c", "1234567-a_b_c.eml"),
    (3, "x" * 100, "000003-" + "x" * 64 + ".eml"),
])
def test_eml_names_are_safe_and_deterministic(line, profile_id, name):
    assert eml_name(line, profile_id) == name
